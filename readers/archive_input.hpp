// libarchive input over a file descriptor: our own buffer, seeking where the file can, copies of the
// stored and of the decompressed bytes for hashing, and compression chosen by magic number and
// decoded strictly (one decoder, never nested). The uncompressed tar bytes pass through here, so
// that the raw header blocks libarchive reads can be captured and checked.
#pragma once

#include "readers/decompress.hpp"
#include "util/file.hpp"
#include "util/growing_file.hpp"
#include "util/progress.hpp"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct archive;

namespace reproimg::readers {

// Where the bytes read are copied as they pass (each may be null): stored, every byte of the
// input as stored (the blob); tar, every byte of the tar stream, decompressed (for a diff_id).
// Neither sees the zero padding added for a Go-style ending (ArchiveInput::set_entry_data_end).
struct InputTees {
  util::ByteSink* stored = nullptr;
  util::ByteSink* tar = nullptr;
};

class ArchiveInput {
public:
  using Tees = InputTees;
  // With a stored tee, nothing is skipped by seeking: every byte is read.
  ArchiveInput(int fd, bool seekable, std::string name, Tees tees = {});
  ~ArchiveInput();
  ArchiveInput(const ArchiveInput&) = delete;
  ArchiveInput& operator=(const ArchiveInput&) = delete;

  // Reads the first block, picks the one decompression its magic number names (gzip, bzip2, xz,
  // zstd, or none; compress, lz4 and lzip are refused by name), and opens a, a reader of the tar
  // formats with no filter of its own: whatever the compression, a reads the tar bytes from here
  // (one code path, and they can be captured). Decompression is ours (readers/decompress.hpp):
  // libarchive's filters nest (a gzip inside a gzip...), 3.6 can loop on a crafted recursive gzip,
  // and they read a compressed stream cut short as a shorter, valid one.
  void open(archive* a);
  // open() in two steps, to choose the tar tee in between: the compression is known after the
  // first, and the tar reader starts reading in the second.
  void sniff_compression();
  void attach(archive* a);

  // Capture of the tar bytes a consumes: begin_capture(p) with p = a's
  // position (archive_filter_bytes(a, 0)) before archive_read_next_header, end_capture(q) with its
  // position after it gives the bytes [p, q), the header chain of one entry. The view is valid
  // until a reads again. Nothing is copied unless the chain crosses a read block. Empty when the
  // bytes were not all seen (skipped by a seek; never expected inside a header).
  void begin_capture(std::uint64_t position);
  std::string_view end_capture(std::uint64_t position);
  // a's error message.
  std::string message(archive* a) const;
  // Reads only [offset, offset + length) of the file, with pread (a member of an image archive).
  // Call before open().
  void set_range(std::uint64_t offset, std::uint64_t length);

  // The entry just read stores its data up to tar offset end. If the tar stream ends at or after
  // end but before the next 512-byte boundary (the padding cut off, as umoci before 0.4.8 wrote
  // its last entry), the missing padding is supplied as zero bytes, as Go's archive/tar reads
  // such a stream. synthesized() counts them.
  void set_entry_data_end(std::uint64_t end) { m_entry_data_end = end; }
  // The tar tee may be chosen after sniff_compression(), once the compression is known (nothing
  // is handed to it before attach()).
  void set_tar_tee(util::ByteSink* tee)
  {
    m_tees.tar = tee;
    m_seekable = m_seekable && !tee;
  }
  std::uint64_t synthesized() const { return m_synthesized; }
  // Counts every byte of the input read or skipped, as it is (call before sniff_compression()).
  void set_progress(util::Progress* progress) { m_progress = progress; }
  // The file is still being written (read from its start, not ranged): a read at its end waits
  // for more bytes, and the end is the end only once the writer finished (call before
  // sniff_compression()).
  void set_growing(const util::GrowingFile* growing) { m_growing = growing; }

  const std::string& name() const { return m_name; }
  const char* compression() const { return codec_name(m_codec); }
  std::uint64_t raw_bytes() const { return m_raw_bytes; }
  // Bytes of the tar stream handed to the tar reader or skipped (the zero padding supplied not counted).
  std::uint64_t tar_bytes() const { return m_tar_pos - m_synthesized; }
  // Reads at most size bytes at a time from now on (512 to the buffer's 1 MiB).
  void set_read_size(size_t size) { m_read_size = std::max<size_t>(512, std::min(size, m_buffer.size())); }
  // After the tar reader is done: reads the rest of the compressed stream (its end is checked:
  // a stream cut short after the end-of-archive blocks is still refused) and, where a tee wants
  // every byte (or with whole), the rest of the input.
  void drain(bool whole = false);
  // Throws the saved read or decompression error, if there was one; in entry, when the reader
  // knows which entry's header or data needed the bytes that could not be had.
  void rethrow_read_error(const std::optional<std::string>& entry = std::nullopt) const;
  // Did a read or a decompression fail (what rethrow_read_error() throws)?
  bool read_failed() const { return m_error || m_errno; }

private:
  static long tar_read_callback(archive*, void* self, const void** out);
  static std::int64_t tar_skip_callback(archive*, void* self, std::int64_t request);
  long next_tar_block(const void** out);
  long read_first_or_more(const void** out);
  long read_more(const void** out);
  long raw_read(void* buf, size_t size);
  long growing_read(void* buf, size_t size);
  std::int64_t skip_raw(std::int64_t request);
  size_t pull_compressed(const unsigned char** chunk);
  void keep_block_tail(std::uint64_t upto);

  int m_fd;
  util::Progress* m_progress = nullptr;
  const util::GrowingFile* m_growing = nullptr;
  std::uint64_t m_file_pos = 0; // bytes read from a growing file
  bool m_seekable;
  std::string m_name;
  Tees m_tees;
  std::vector<unsigned char> m_buffer;
  size_t m_read_size;
  size_t m_pending = 0; // bytes of the first block not yet handed over
  Codec m_codec = Codec::none;
  std::uint64_t m_raw_bytes = 0;
  bool m_raw_ended = false;
  int m_errno = 0;
  std::exception_ptr m_error; // thrown inside a callback, rethrown by rethrow_read_error()
  bool m_ranged = false;
  std::uint64_t m_pos = 0;
  std::uint64_t m_end = 0;

  std::unique_ptr<Decoder> m_decoder; // when compressed
  std::vector<unsigned char> m_decoded;
  bool m_tar_ended = false;
  std::optional<std::uint64_t> m_entry_data_end;
  std::uint64_t m_synthesized = 0;
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

// A new reader restricted to what we trust: the tar formats (and an empty input). No filter is
// enabled: ArchiveInput decompresses.
archive* new_restricted_reader();

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

} // namespace reproimg::readers
