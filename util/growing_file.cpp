// Growing files: the writer's progress and verdict, and readers waiting on them.
#include "util/growing_file.hpp"

namespace reproimg::util {

GrowingFile::GrowingFile(std::uint64_t expected_size) : m_expected(expected_size) {}

void GrowingFile::started(std::string path)
{
  {
    const std::lock_guard lock(m_mutex);
    m_path = std::move(path);
    m_state = State::growing;
  }
  m_changed.notify_all();
}

void GrowingFile::grew(std::uint64_t size)
{
  {
    const std::lock_guard lock(m_mutex);
    m_size = size;
  }
  m_changed.notify_all();
}

void GrowingFile::finish(const std::function<std::string()>& publish)
{
  {
    const std::lock_guard lock(m_mutex);
    m_path = publish();
    m_state = State::finished;
  }
  m_changed.notify_all();
}

void GrowingFile::fail(std::exception_ptr error)
{
  {
    const std::lock_guard lock(m_mutex);
    if (m_state == State::failed) return; // the first error is the one
    m_error = std::move(error);
    m_state = State::failed;
  }
  m_changed.notify_all();
}

Fd GrowingFile::open() const
{
  std::unique_lock lock(m_mutex);
  m_changed.wait(lock, [&] { return m_state != State::pending; });
  if (m_state == State::failed) std::rethrow_exception(m_error);
  return open_read(m_path);
}

bool GrowingFile::wait_beyond(std::uint64_t offset, std::uint64_t want) const
{
  std::unique_lock lock(m_mutex);
  m_changed.wait(lock, [&] {
    return (m_state != State::pending && m_state != State::growing) ||
           (m_state == State::growing && m_size >= offset + want);
  });
  if (m_state == State::failed) std::rethrow_exception(m_error);
  // Finished: the file's size is what the writer checked; growing: at least offset + want.
  return m_state == State::growing || m_size > offset;
}

void GrowingFile::wait_done() const
{
  std::unique_lock lock(m_mutex);
  m_changed.wait(lock, [&] { return m_state == State::finished || m_state == State::failed; });
  if (m_state == State::failed) std::rethrow_exception(m_error);
}

bool GrowingFile::finished() const
{
  const std::lock_guard lock(m_mutex);
  return m_state == State::finished;
}

} // namespace reproimg::util
