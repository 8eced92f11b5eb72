// A file one thread is still writing (a blob being downloaded) that others read as it grows: a
// read at its current end waits for more bytes or for the writer's verdict. Only a finished file
// has an end; a failed one hands every reader the writer's error.
#pragma once

#include "util/file.hpp"

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>

namespace reproimg::util {

class GrowingFile {
public:
  // Not begun yet: readers wait for started(). expected_size: what it will hold when whole.
  explicit GrowingFile(std::uint64_t expected_size);
  GrowingFile(const GrowingFile&) = delete;
  GrowingFile& operator=(const GrowingFile&) = delete;

  // Writer: the file exists at path (empty).
  void started(std::string path);
  // Writer: the file now holds size bytes (they are written: a read sees them).
  void grew(std::uint64_t size);
  // Writer: the file is whole and checked. publish runs under the lock (a rename) and returns
  // where the file is now; readers opening it later open that path.
  void finish(const std::function<std::string()>& publish);
  // Writer: the file will never be whole; readers get error. Call before the file is removed.
  void fail(std::exception_ptr error);

  // Reader: opens the file wherever it is now (a rename cannot race the open). Throws the
  // writer's error when it failed.
  [[nodiscard]] Fd open() const;
  // Reader: waits until the file holds at least offset + want bytes or is finished. Returns true
  // when there are bytes beyond offset, false at the end of the finished file; throws the writer's
  // error when it failed.
  bool wait_beyond(std::uint64_t offset, std::uint64_t want = 1) const;
  // Reader: waits until the writer is done; throws its error when it failed.
  void wait_done() const;

  std::uint64_t expected_size() const { return m_expected; }
  // Without waiting: finished (whole and checked)?
  bool finished() const;

private:
  enum class State { pending, growing, finished, failed };
  mutable std::mutex m_mutex;
  mutable std::condition_variable m_changed;
  std::string m_path;
  std::uint64_t m_expected;
  std::uint64_t m_size = 0;
  State m_state = State::pending;
  std::exception_ptr m_error;
};

} // namespace reproimg::util
