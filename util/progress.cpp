// Progress on stderr.
#include "util/progress.hpp"

#include "util/file.hpp"

#include <cstdio>

namespace reproimg::util {

Progress::Progress(ProgressMode mode, std::string label)
    : m_enabled(mode == ProgressMode::always || (mode == ProgressMode::auto_tty && is_terminal(2))),
      m_always(mode == ProgressMode::always), m_label(std::move(label)),
      m_start(std::chrono::steady_clock::now()), m_last(m_start)
{
}

Progress::~Progress()
{
  done();
}

std::string human_bytes(std::uint64_t bytes)
{
  char buf[64];
  const double b = static_cast<double>(bytes);
  if (bytes >= (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1ull << 30));
  } else if (bytes >= (1ull << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1ull << 20));
  } else if (bytes >= 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

void Progress::tick()
{
  const auto now = std::chrono::steady_clock::now();
  if (now - m_last < std::chrono::milliseconds(200)) {
    return;
  }
  const double elapsed = std::chrono::duration<double>(now - m_start).count();
  if (!m_always && elapsed < 1.0) {
    return;
  }
  m_last = now;
  const double rate = elapsed > 0 ? static_cast<double>(m_bytes) / elapsed : 0;
  std::fprintf(stderr, "\r%s: %s, %llu entries, %s/s   ", m_label.c_str(), human_bytes(m_bytes).c_str(),
               static_cast<unsigned long long>(m_entries),
               human_bytes(static_cast<std::uint64_t>(rate)).c_str());
  if (m_always && !is_terminal(2)) {
    std::fputc('\n', stderr);
  }
  std::fflush(stderr);
  m_shown = true;
}

void Progress::done()
{
  if (m_shown && is_terminal(2)) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
  m_shown = false;
  m_enabled = false;
}

} // namespace reproimg::util
