// File handles, whole-file helpers, the atomic output file and the byte-sink interface.
#pragma once

#include "util/remove_tree.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace reproimg::util {

// A move-only owner of a file descriptor.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(Fd&& other) noexcept : m_fd(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();

  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  [[nodiscard]] int release();
  // Closes now and reports a failure (a deferred write error on some file systems).
  void close(const std::string& name);

private:
  int m_fd = -1;
};

// While one lives (the CLI holds one for a command), every regular file open_read opens is noted
// as an input of the command, and an AtomicFile never replaces one. One at a time.
class InputGuard {
public:
  InputGuard();
  ~InputGuard();
  InputGuard(const InputGuard&) = delete;
  InputGuard& operator=(const InputGuard&) = delete;
};

// Opens an input (noted as one while an InputGuard lives).
[[nodiscard]] Fd open_read(const std::string& path);

// Writes all of data or throws, naming the file.
void write_all(int fd, const void* data, size_t size, const std::string& name);
// Reads up to size bytes, retrying on EINTR and short reads; returns the count (0 = EOF).
[[nodiscard]] size_t read_full(int fd, void* data, size_t size, const std::string& name);
// Reads exactly size bytes at offset or throws (unexpected end of file).
void pread_exact(int fd, void* data, size_t size, std::uint64_t offset, const std::string& name);
// Like pread_exact, but the end of the file is not an error: returns how many bytes there were.
[[nodiscard]] size_t pread_until_end(int fd, void* data, size_t size, std::uint64_t offset, const std::string& name);

[[nodiscard]] std::string read_file(const std::string& path);

// Where bytes go: a file, a hash, a compressor, a tee. finish() flushes and ends the stream.
class ByteSink {
public:
  virtual ~ByteSink() = default;
  virtual void write(const void* data, size_t size) = 0;
  virtual void finish() {}
  void write(std::string_view s) { write(s.data(), s.size()); }

  // Writing without a copy: a sink that keeps what it is given (a queue of buffers) may lend room
  // in its own memory. The caller fills a prefix of the span and passes it on with write_lent(n),
  // which is write() of those n bytes minus the copy; any other call to the sink ends the loan.
  // The default lends nothing (an empty span): then write() as usual.
  virtual std::span<unsigned char> lend() { return {}; }
  virtual void write_lent(size_t size);
};

// Drops what it is given.
class NullSink : public ByteSink {
public:
  void write(const void*, size_t) override {}
};

// Counts what passes through to next (lending included).
class CountingSink : public ByteSink {
public:
  explicit CountingSink(ByteSink& next) : m_next(next) {}
  void write(const void* data, size_t size) override
  {
    m_next.write(data, size);
    m_bytes += size;
  }
  void finish() override { m_next.finish(); }
  std::span<unsigned char> lend() override { return m_next.lend(); }
  void write_lent(size_t size) override
  {
    m_next.write_lent(size);
    m_bytes += size;
  }
  std::uint64_t bytes() const { return m_bytes; }

private:
  ByteSink& m_next;
  std::uint64_t m_bytes = 0;
};

// A buffered sink onto a file descriptor it does not own.
class FdSink : public ByteSink {
public:
  FdSink(int fd, std::string name, size_t buffer_size = 1 << 20);
  void write(const void* data, size_t size) override;
  void finish() override;
  std::uint64_t bytes_written() const { return m_total; }

private:
  int m_fd;
  std::string m_name;
  std::vector<unsigned char> m_buffer;
  size_t m_used = 0;
  std::uint64_t m_total = 0;
};

// An output file that appears under its name only when commit() succeeds: it is written to a
// temporary file in the same directory and renamed. Destroyed without commit, or on an interrupt
// before it (util/interrupt.hpp), the temp is removed.
// An existing device or fifo (/dev/null, a named pipe) is written in place instead. Under an
// InputGuard, a file opened with open_read (an input) is never replaced: the constructor and
// commit() throw util::Error naming it.
class AtomicFile {
public:
  explicit AtomicFile(std::string path, unsigned mode = 0644);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const { return m_fd.get(); }
  const std::string& path() const { return m_path; }
  const std::string& temp_path() const { return m_temp_path; }
  void commit();

private:
  std::string m_path;
  std::string m_temp_path;
  Fd m_fd;
  bool m_committed = false;
  bool m_direct = false; // an existing device or fifo, written in place
  int m_registration = -1; // for removal on an interrupt (util/interrupt.hpp)
};

// Throws, before any work is done, what creating the output file path would meet at the end:
// path is a directory, or the directory it would be in does not exist.
void check_output_file(const std::string& path);

// Writes a whole file atomically.
void write_file_atomic(const std::string& path, std::string_view content, unsigned mode = 0644);

[[nodiscard]] bool is_terminal(int fd);

} // namespace reproimg::util

namespace reproimg::util {

// Is path a directory with nothing in it?
[[nodiscard]] bool is_empty_dir(const std::string& path);
// The names in a directory but "." and "..", in byte order; a listing cut short (a failed readdir)
// is an error, never fewer names.
[[nodiscard]] std::vector<std::string> sorted_directory_names(const std::string& dir);
// Does path not exist yet, or is it an empty directory (where a new directory may be put)?
[[nodiscard]] bool is_new_or_empty_dir(const std::string& path);
// Does path name a regular file / a directory (symlinks followed)?
[[nodiscard]] bool is_regular_file(const std::string& path);
[[nodiscard]] bool is_directory(const std::string& path);
// Do a and b name the same file or directory (same device and inode; symlinks followed)?
[[nodiscard]] bool same_file(const std::string& a, const std::string& b);


// A temporary directory that is removed with everything in it unless release() is called, and
// on an interrupt until then (util/interrupt.hpp). A caller that renames it into place does the
// rename and release() under one util::InterruptDeferral.
class TempDir {
public:
  // Created as TEMPLATE_PREFIX + random suffix.
  explicit TempDir(const std::string& prefix);
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return m_path; }
  void release();

private:
  std::string m_path;
  bool m_released = false;
  int m_registration = -1;
};

} // namespace reproimg::util
