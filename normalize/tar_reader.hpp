// Reads any tar dialect in any supported compression (libarchive) into an EntryVisitor.
#pragma once

#include "normalize/source.hpp"
#include "util/progress.hpp"

#include <optional>
#include <string>

struct archive;

namespace reproimg::normalize {

struct TarInput {
  std::string name; // for messages: the file name, or "<stdin>"
  int fd = -1;      // not owned
  bool seekable = false;
  std::uint64_t file_size = 0; // when seekable
  // A member of an image archive: only [range_offset, range_offset + *range_length) is read.
  std::uint64_t range_offset = 0;
  std::optional<std::uint64_t> range_length;
};

// The input for an open file descriptor: seekable (with its size) when it is a regular file.
TarInput tar_input_of(int fd, std::string name);

struct TarReadResult {
  std::string compression; // "none", "gzip", "bzip2", "xz", "zstd"
  std::uint64_t raw_bytes = 0;  // bytes read from the input
  std::uint64_t tar_bytes = 0;  // uncompressed bytes consumed
  std::uint64_t entries = 0;
  bool contents_in_source = false; // EntryData::source_offset() was offered
};

// Reads every entry. With allow_source_offsets, entries of a seekable uncompressed input offer
// their offset instead of being read (the consumer may then skip them: libarchive seeks past).
// Throws util::Error naming the file, the entry and the offset on malformed input.
TarReadResult read_tar(const TarInput& input, EntryVisitor& visitor, util::Progress& progress,
                       bool allow_source_offsets);

} // namespace reproimg::normalize
