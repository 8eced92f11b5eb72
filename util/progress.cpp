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

void Progress::add_total(std::uint64_t bytes, std::uint64_t entries)
{
  const std::lock_guard lock(m_printing);
  m_total_bytes += bytes;
  m_total_entries += entries;
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

std::string human_duration(double seconds)
{
  const auto s = static_cast<unsigned long long>(seconds + 0.5);
  char buf[64];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llu s", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%llu min %02llu s", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%llu h %02llu min", s / 3600, s / 60 % 60);
  }
  return buf;
}

std::string Progress::line(double elapsed) const
{
  const std::uint64_t bytes = m_bytes.load(std::memory_order_relaxed);
  const std::uint64_t entries = m_entries.load(std::memory_order_relaxed);
  std::string out = m_label + ": " + human_bytes(bytes);
  if (m_total_bytes > 0) {
    const unsigned percent = bytes >= m_total_bytes ? 100u : static_cast<unsigned>(bytes * 100 / m_total_bytes);
    out += " of " + human_bytes(m_total_bytes) + " (" + std::to_string(percent) + "%)";
  }
  out += ", " + std::to_string(entries);
  if (m_total_entries > 0) {
    out += " of " + std::to_string(m_total_entries);
  }
  out += " entries";
  const double rate = elapsed > 0 ? static_cast<double>(bytes) / elapsed : 0;
  out += ", " + human_bytes(static_cast<std::uint64_t>(rate)) + "/s";
  if (m_total_bytes > bytes && rate > 0) {
    out += ", " + human_duration(static_cast<double>(m_total_bytes - bytes) / rate) + " left";
  }
  return out;
}

void Progress::tick()
{
  const std::unique_lock lock(m_printing, std::try_to_lock);
  if (!lock.owns_lock()) {
    return; // another thread is printing it
  }
  const auto now = std::chrono::steady_clock::now();
  if (now - m_last < std::chrono::milliseconds(200)) {
    return;
  }
  const double elapsed = std::chrono::duration<double>(now - m_start).count();
  if (!m_always && elapsed < 1.0) {
    return;
  }
  m_last = now;
  const bool terminal = is_terminal(2);
  // On a terminal the line is rewritten in place; elsewhere (--progress into a log) one per update.
  std::fprintf(stderr, terminal ? "\r%s\033[K" : "%s\n", line(elapsed).c_str());
  std::fflush(stderr);
  m_shown = true;
}

void Progress::done()
{
  const std::lock_guard lock(m_printing);
  if (m_shown && is_terminal(2)) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  } else if (m_enabled && m_always && !is_terminal(2) &&
             (m_bytes.load(std::memory_order_relaxed) > 0 || m_entries.load(std::memory_order_relaxed) > 0)) {
    // --progress into a log: the last state too, even of work quicker than one update.
    const auto now = std::chrono::steady_clock::now();
    std::fprintf(stderr, "%s\n", line(std::chrono::duration<double>(now - m_start).count()).c_str());
    std::fflush(stderr);
  }
  m_shown = false;
  m_enabled = false;
}

} // namespace reproimg::util
