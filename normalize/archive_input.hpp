// libarchive input over a file descriptor: our own buffer, seeking where the file can, optional
// hashing of the stored bytes, and compression chosen by magic number (one filter, never nested).
// For a tar reader, the uncompressed tar bytes pass through here, so that the raw header blocks
// libarchive reads can be captured and checked.
#pragma once

#include "digest/sha256.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct archive;

namespace reproimg::normalize {

class ArchiveInput {
public:
  // hash: if set, every byte of the input is hashed (seeking is then disabled).
  ArchiveInput(int fd, bool seekable, std::string name, digest::Sha256* hash = nullptr);
  ~ArchiveInput();
  ArchiveInput(const ArchiveInput&) = delete;
  ArchiveInput& operator=(const ArchiveInput&) = delete;

  // Reads the first block, picks the one decompression filter its magic number names (gzip,
  // bzip2, xz, zstd, or none; compress, lz4 and lzip are refused by name), and opens a. libarchive's own filter bidding is not used:
  // it nests filters (a gzip inside a gzip...) and 3.6 can loop on a crafted recursive gzip.
  // With tar_formats, a compressed input is decompressed by a second, raw-format reader with that
  // filter, whose output is a's input: a itself has no filter, so whatever the compression, a
  // reads the tar bytes from here (one code path, and they can be captured).
  void open(archive* a, bool tar_formats);

  // Capture of the tar bytes a consumes (tar_formats only): begin_capture(p) with p = a's
  // position (archive_filter_bytes(a, 0)) before archive_read_next_header, end_capture(q) with its
  // position after it gives the bytes [p, q), the header chain of one entry. The view is valid
  // until a reads again. Nothing is copied unless the chain crosses a read block. Empty when the
  // bytes were not all seen (skipped by a seek; never expected inside a header).
  void begin_capture(std::uint64_t position);
  std::string_view end_capture(std::uint64_t position);
  // a's error message, or the decompressor's when decompression failed under it.
  std::string message(archive* a) const;
  // Reads only [offset, offset + length) of the file, with pread (a member of an image archive).
  // Call before open().
  void set_range(std::uint64_t offset, std::uint64_t length);

  const std::string& name() const { return m_name; }
  const char* compression() const { return m_compression; }
  std::uint64_t raw_bytes() const { return m_raw_bytes; }
  // Reads at most size bytes at a time from now on (512 to the buffer's 1 MiB).
  void set_read_size(size_t size) { m_read_size = std::max<size_t>(512, std::min(size, m_buffer.size())); }
  // Reads the rest of the input (so the hash covers every byte, trailing garbage included).
  void drain();
  // Throws the saved read error, if there was one.
  void rethrow_read_error() const;

private:
  static long read_callback(archive*, void* self, const void** out);
  static std::int64_t skip_callback(archive*, void* self, std::int64_t request);
  // The callbacks of a tar reader: tar bytes, from the file or from m_decoder.
  static long tar_read_callback(archive*, void* self, const void** out);
  static std::int64_t tar_skip_callback(archive*, void* self, std::int64_t request);
  long read_first_or_more(const void** out);
  long read_more(const void** out);
  long raw_read(void* buf, size_t size);
  void keep_block_tail(std::uint64_t upto);

  int m_fd;
  bool m_seekable;
  std::string m_name;
  digest::Sha256* m_hash;
  std::vector<unsigned char> m_buffer;
  size_t m_read_size;
  size_t m_pending = 0; // bytes of the first block not yet handed to libarchive
  const char* m_compression = "none";
  std::uint64_t m_raw_bytes = 0;
  int m_errno = 0;
  bool m_ranged = false;
  std::uint64_t m_pos = 0;
  std::uint64_t m_end = 0;

  archive* m_decoder = nullptr; // owned: the raw-format reader that decompresses (tar_formats)
  bool m_decoder_eof = false;
  std::string m_decoder_error;
  // The tar bytes handed to the tar reader: the last block [m_block_start, +m_block_size), and
  // m_tar_pos, the position after everything handed over or skipped.
  const unsigned char* m_block = nullptr;
  size_t m_block_size = 0;
  std::uint64_t m_block_start = 0;
  std::uint64_t m_tar_pos = 0;
  bool m_capturing = false;
  bool m_capture_lost = false;
  std::uint64_t m_capture_from = 0;
  std::string m_captured; // the bytes from m_capture_from kept from earlier blocks
};

// A new reader restricted to what we trust: the tar formats (and an empty input) or, for
// tar_formats == false, the raw format (decompression only). No filter is enabled: open() adds one.
archive* new_restricted_reader(bool tar_formats);

// Owns an archive from new_restricted_reader (archive_read_free).
struct ArchiveReadFree {
  void operator()(archive* a) const;
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;

// While alive, this thread's character type is UTF-8 (C.UTF-8), whatever the process locale:
// libarchive converts pax names through the locale, so a fixed one makes names, warnings and
// reports the same under LC_ALL=C and C.UTF-8.
class Utf8LocaleScope {
public:
  Utf8LocaleScope();
  ~Utf8LocaleScope();
  Utf8LocaleScope(const Utf8LocaleScope&) = delete;
  Utf8LocaleScope& operator=(const Utf8LocaleScope&) = delete;

private:
  void* m_previous = nullptr; // locale_t
};

// libarchive's error string, cleaned to one line.
std::string archive_message(archive* a);

} // namespace reproimg::normalize
