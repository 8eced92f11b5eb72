// Helpers the fuzz targets share: inputs as memory-backed files or pipes, and invariant checks.
#pragma once

#include "util/file.hpp"

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <exception>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

namespace reproimg::fuzz {

// An invariant does not hold: say which, and abort so that libFuzzer saves the input as a crash.
[[noreturn]] inline void fail(const std::string& what)
{
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void check(bool ok, const std::string& what)
{
  if (!ok) {
    fail(what);
  }
}

// A refusal, printed when REPROIMG_FUZZ_VERBOSE is set (to see how far an input gets).
inline void refused(const std::exception& e)
{
  static const bool verbose = std::getenv("REPROIMG_FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "refused: %s\n", e.what());
  }
}

// An intermediate result, written to $REPROIMG_FUZZ_DUMP/NAME when that is set (to look at the
// stages of a failing input).
inline void dump(const std::string& name, std::string_view bytes)
{
  static const char* const dir = std::getenv("REPROIMG_FUZZ_DUMP");
  if (dir) {
    util::write_file_atomic(std::string(dir) + "/" + name, bytes);
  }
}

// The bytes as a regular file that lives in memory; readers open it by path().
class MemFile {
public:
  explicit MemFile(std::string_view bytes)
  {
    const int fd = ::memfd_create("fuzz-input", MFD_CLOEXEC);
    if (fd < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    m_fd = util::Fd(fd);
    util::write_all(fd, bytes.data(), bytes.size(), "memfd");
  }
  int fd() const { return m_fd.get(); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(m_fd.get()); }

private:
  util::Fd m_fd;
};

// The bytes as a pipe (not seekable), fed by a thread; readers open it by path().
class PipeFeed {
public:
  explicit PipeFeed(std::string_view bytes)
  {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      std::perror("pipe2");
      std::abort();
    }
    m_read = util::Fd(fds[0]);
    // What fits in the pipe's buffer is written at once (no thread: faster, and deterministic).
    const int capacity = ::fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(std::min<size_t>(bytes.size(), 1 << 20)));
    if (capacity >= 0 && bytes.size() <= static_cast<size_t>(capacity)) {
      util::write_all(fds[1], bytes.data(), bytes.size(), "pipe");
      ::close(fds[1]);
      return;
    }
    m_writer = std::thread([w = fds[1], bytes] {
      size_t done = 0;
      while (done < bytes.size()) {
        const ssize_t n = ::write(w, bytes.data() + done, bytes.size() - done);
        if (n <= 0) {
          break; // EPIPE: the reader stopped early (SIGPIPE is ignored)
        }
        done += static_cast<size_t>(n);
      }
      ::close(w);
    });
  }
  ~PipeFeed()
  {
    m_read = util::Fd(); // a writer still blocked gets EPIPE
    if (m_writer.joinable()) {
      m_writer.join();
    }
  }
  PipeFeed(const PipeFeed&) = delete;
  PipeFeed& operator=(const PipeFeed&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(m_read.get()); }

private:
  util::Fd m_read;
  std::thread m_writer;
};

// Collects what is written to it.
class StringSink : public util::ByteSink {
public:
  void write(const void* data, size_t size) override { bytes.append(static_cast<const char*>(data), size); }
  std::string bytes;
};

// Once per process: a broken pipe is an error return, not a signal.
// Is bytes exactly one gzip member or one zstd frame, nothing before or after? A strict prefix of
// such a stream is never whole.
inline bool one_compressed_stream(std::string_view bytes)
{
  if (bytes.size() >= 4 && static_cast<unsigned char>(bytes[0]) == 0x28 && static_cast<unsigned char>(bytes[1]) == 0xb5 &&
      static_cast<unsigned char>(bytes[2]) == 0x2f && static_cast<unsigned char>(bytes[3]) == 0xfd) {
    return ZSTD_findFrameCompressedSize(bytes.data(), bytes.size()) == bytes.size();
  }
  if (bytes.size() < 2 || static_cast<unsigned char>(bytes[0]) != 0x1f || static_cast<unsigned char>(bytes[1]) != 0x8b) {
    return false;
  }
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) {
    return false;
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  unsigned char out[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = out;
    z.avail_out = sizeof out;
    rc = inflate(&z, Z_NO_FLUSH);
  }
  const bool one = rc == Z_STREAM_END && z.avail_in == 0;
  inflateEnd(&z);
  return one;
}

inline void ignore_sigpipe()
{
  std::signal(SIGPIPE, SIG_IGN);
}

} // namespace reproimg::fuzz
