// Progress on stderr: how far along the work is (bytes and entries done, of how many when that is
// known), the rate and the time left, for work that takes over a second.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
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

  // What the work amounts to, where it is known (the size of an input as stored, the contents
  // to write), added to what was said before (one Progress may count several inputs): the line
  // then says how far along it is ("232 MiB of 465 MiB (49%)") and the time left.
  void add_total(std::uint64_t bytes, std::uint64_t entries = 0);
  // Work done; any thread may call it (one Progress may count two inputs read side by side).
  void add(std::uint64_t bytes, std::uint64_t entries = 0)
  {
    m_bytes.fetch_add(bytes, std::memory_order_relaxed);
    m_entries.fetch_add(entries, std::memory_order_relaxed);
    if (m_enabled) {
      tick();
    }
  }
  void done();

  // The line shown after elapsed seconds (without the carriage return), for tests.
  std::string line(double elapsed_seconds) const;

private:
  void tick();

  std::atomic<bool> m_enabled;
  bool m_always;
  bool m_shown = false;
  std::string m_label;
  std::atomic<std::uint64_t> m_bytes{0};
  std::atomic<std::uint64_t> m_entries{0};
  std::uint64_t m_total_bytes = 0;
  std::uint64_t m_total_entries = 0;
  std::mutex m_printing;
  std::chrono::steady_clock::time_point m_start;
  std::chrono::steady_clock::time_point m_last;
};

std::string human_bytes(std::uint64_t bytes);
// "45 s", "2 min 05 s", "1 h 07 min".
std::string human_duration(double seconds);

} // namespace reproimg::util
