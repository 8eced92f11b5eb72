// The identities of a layer as it is stored: sha256 of the bytes (blob digest) and of the
// decompressed tar stream (diff_id), in one pass that also reads the tar headers: a stream cut
// short (tar or compressed) has no identities, it is an error.
#pragma once

#include "readers/layer_source.hpp"
#include "readers/tar_reader.hpp"
#include "util/file.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace reproimg::readers {

struct StreamDigests {
  std::string compression; // "none", "gzip", "bzip2", "xz", "zstd"
  std::string blob_digest;
  std::uint64_t blob_size = 0;
  std::string diff_id;
  std::uint64_t tar_size = 0;
  std::uint64_t entries = 0;
  TarEnding ending = TarEnding::end_blocks; // a Go-style ending is read as complete, and said
  std::vector<std::string> warnings; // what libarchive warned of, one line each with its Location
};

// The identities a read_tar with digests (or an expectation) found.
StreamDigests stream_digests_of(const TarReadResult& r);

// Reads fd to its end. name is for messages. decompressed, if set, receives the tar stream (not
// finished: the caller owns it). progress, if set, counts the bytes read.
StreamDigests digest_stream(int fd, const std::string& name, util::ByteSink* decompressed = nullptr,
                            util::Progress* progress = nullptr);
// A tar source (a file, standard input, a byte range of an image archive), checked against its
// expectation when it has one (a mismatch throws util::Error naming the blob).
StreamDigests digest_layer(const LayerSource& source, util::ByteSink* decompressed = nullptr,
                           util::Progress* progress = nullptr);
// The same, the entries (their headers; contents are not read) and libarchive's warnings going to
// visitor on the way: one decode serves both.
StreamDigests digest_layer_entries(const LayerSource& source, EntryVisitor& visitor);
// The same over bytes [offset, offset + length) of fd, read with pread.
StreamDigests digest_stream_range(int fd, const std::string& name, std::uint64_t offset, std::uint64_t length,
                                  util::ByteSink* decompressed = nullptr);

} // namespace reproimg::readers
