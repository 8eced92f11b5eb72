// Progress on stderr: bytes and entries done and the rate, for work that takes over a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace reproimg::util {

enum class ProgressMode { off, auto_tty, always };

class Progress {
public:
  // auto_tty: shown only when stderr is a terminal, and only once the work has run a second.
  Progress(ProgressMode mode, std::string label);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(std::uint64_t bytes, std::uint64_t entries = 0)
  {
    m_bytes += bytes;
    m_entries += entries;
    if (m_enabled && ++m_calls % 64 == 0) {
      tick();
    }
  }
  void set_phase(std::string label) { m_label = std::move(label); }
  void done();

private:
  void tick();

  bool m_enabled;
  bool m_always;
  bool m_shown = false;
  std::string m_label;
  std::uint64_t m_bytes = 0;
  std::uint64_t m_entries = 0;
  std::uint64_t m_calls = 0;
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_last;
};

std::string human_bytes(std::uint64_t bytes);

} // namespace reproimg::util
