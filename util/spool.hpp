// A bounded-memory store for byte ranges: small totals stay in memory, the rest spills to an
// unlinked temporary file. Used to hold entry contents while entries are sorted.
#pragma once

#include "util/file.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace reproimg::util {

class Spool {
public:
  // memory_limit: bytes kept in RAM before contents go to the temp file.
  explicit Spool(size_t memory_limit = 32u << 20);
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Opens a new range; append() adds to it; the returned offset names it.
  [[nodiscard]] std::uint64_t begin();
  void append(const void* data, size_t size);
  void append_zeros(std::uint64_t count);

  // Streams [offset, offset+size) to sink.
  void copy_to(std::uint64_t offset, std::uint64_t size, ByteSink& sink);

  std::uint64_t size() const { return m_size; }
  std::uint64_t spilled_bytes() const { return m_size > m_memory.size() ? m_size - m_memory.size() : 0; }

private:
  void spill(const void* data, size_t size);
  void flush_write_buffer();

  size_t m_memory_limit;
  std::vector<unsigned char> m_memory; // bytes [0, m_memory.size())
  Fd m_file;                           // bytes [m_memory.size(), m_size)
  std::vector<unsigned char> m_write_buffer;
  std::uint64_t m_size = 0;
  std::uint64_t m_file_flushed = 0; // bytes of the file part already written
  std::vector<unsigned char> m_read_buffer;
};

// Appends what it is given to the spool's open range (Spool::begin), counting it.
class SpoolSink : public ByteSink {
public:
  explicit SpoolSink(Spool& spool) : m_spool(spool) {}
  void write(const void* data, size_t size) override
  {
    m_spool.append(data, size);
    m_bytes += size;
  }
  std::uint64_t bytes() const { return m_bytes; }

private:
  Spool& m_spool;
  std::uint64_t m_bytes = 0;
};

// The directory for temporary files: $TMPDIR, else /tmp.
[[nodiscard]] std::string temp_directory();

// A new read-write temporary file that has no name (O_TMPFILE, else created and unlinked at once):
// it disappears with its descriptor. what names it in messages.
[[nodiscard]] Fd anonymous_temp_file(const std::string& what);

// Copies standard input to an anonymous temporary file, so that it can be read twice and by
// offset; the returned descriptor is positioned at the start.
[[nodiscard]] Fd copy_stdin_to_temp();

} // namespace reproimg::util
