// Reads any tar dialect in any supported compression (libarchive) into an EntryVisitor.
#pragma once

#include "readers/blob_check.hpp"
#include "readers/source.hpp"
#include "util/growing_file.hpp"
#include "util/progress.hpp"

#include <memory>
#include <optional>
#include <string>

struct archive;

namespace reproimg::readers {

struct TarInput {
  std::string name; // for messages: the file name, or "<stdin>"
  int fd = -1;      // not owned
  bool seekable = false;
  std::uint64_t file_size = 0; // when seekable
  // A member of an image archive: only [range_offset, range_offset + *range_length) is read.
  std::uint64_t range_offset = 0;
  std::optional<std::uint64_t> range_length;
  // A blob of an image: checked while it is read (every byte is then read and hashed; the seek
  // fast path is lost), before read_tar returns. A mismatch throws util::Error naming the blob.
  std::optional<BlobExpectation> expect;
  // A file still being written (a blob being downloaded): read as a pipe is, a read at its end
  // waiting for more bytes or the writer's verdict (whose error it then throws).
  std::shared_ptr<const util::GrowingFile> growing;
};

// The input for an open file descriptor: seekable (with its size) when it is a regular file.
TarInput tar_input_of(int fd, std::string name);

// How a tar stream ended. Go's archive/tar (containerd, Docker, podman, umoci) reads all three as
// complete; GNU tar and libarchive refuse the last one, and scanners built on them.
enum class TarEnding {
  end_blocks,    // the end-of-archive zero blocks are there
  no_end_blocks, // the stream ends after the last entry's padding
  no_padding,    // the stream ends right after the last entry's data (umoci insert before 0.4.8)
};

// One line for reports and notes; empty for TarEnding::end_blocks.
std::string ending_note(TarEnding ending);

// Whether entries of a seekable uncompressed input offer their offset (EntryData::source_offset)
// instead of being read: the consumer may then skip them, and libarchive seeks past.
enum class SourceOffsets { offered, not_offered };

struct TarReadOptions {
  SourceOffsets offsets = SourceOffsets::not_offered;
  // Hash the input as stored (blob digest) and the tar stream (diff_id), reading both to the end.
  bool digests = false;
  // Receive every byte of the tar stream (decompressed), the rest after the end blocks included.
  util::ByteSink* tar_tee = nullptr;
};

struct TarReadResult {
  std::string compression; // "none", "gzip", "bzip2", "xz", "zstd"
  std::uint64_t raw_bytes = 0;  // bytes read from the input
  std::uint64_t tar_bytes = 0;  // uncompressed bytes consumed by the tar reader
  std::uint64_t entries = 0;
  bool contents_in_source = false; // EntryData::source_offset() was offered
  TarEnding ending = TarEnding::end_blocks;
  // With TarReadOptions::digests or TarInput::expect: the whole input's identities.
  std::string blob_digest;
  std::string diff_id;
  std::uint64_t stream_bytes = 0; // the whole tar stream, what follows the end blocks included
};

// Reads every entry, and checks that the input is whole: a tar stream or compressed stream cut
// short is an error, except a Go-style ending (TarEnding), which is reported, not refused; so
// is an empty input. Throws util::Error naming the file, the entry and the offset on malformed
// input.
TarReadResult read_tar(const TarInput& input, EntryVisitor& visitor, util::Progress& progress,
                       const TarReadOptions& options = {});

} // namespace reproimg::readers
