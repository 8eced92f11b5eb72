// One layer through the whole data path: source -> canonical entries -> canonical tar ->
// sha256 (diff_id) -> compressor -> sha256 (blob digest) -> sink.
#pragma once

#include "normalize/blob_check.hpp"
#include "normalize/policy.hpp"
#include "normalize/tar_reader.hpp"
#include "normalize/report.hpp"
#include "util/file.hpp"
#include "util/progress.hpp"

#include <optional>
#include <string>

namespace reproimg::normalize {

struct LayerSource {
  enum class Kind { tar, directory };
  LayerSource() = default;
  LayerSource(Kind k, std::string p) : kind(k), path(std::move(p)) {}

  Kind kind = Kind::tar;
  std::string path; // "-" is standard input
  // A layer stored inside a file (a member of an image archive): bytes [offset, offset + *length).
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;
  // A blob of an image: what it must be, checked by every read of it (see TarInput::expect).
  std::optional<BlobExpectation> expect;
  // For messages: the blob as its image names it ("FILE" or "ARCHIVE:MEMBER"); empty: the path.
  std::string label;
  std::string display_name() const { return !label.empty() ? label : path == "-" ? "<stdin>" : path; }
};

// The tar input of a tar source opened as fd: its byte range and its expectation.
TarInput tar_input_of(const LayerSource& source, int fd);

// "dir:PATH", "tar:FILE", "-", or a plain path (a directory is read as a rootfs).
LayerSource parse_layer_source(const std::string& spec);

// Throws util::Error saying what to do for an input in a transport reproimg does not read (yet):
// docker://REF (a registry), docker-daemon:REF, containers-storage:REF. Every command's input
// parsing calls it first.
void refuse_unread_transport(const std::string& spec);

struct NormalizeOptions {
  Policy policy;
  Compression compression = Compression::none;
  size_t memory_limit = 32u << 20; // contents held in RAM before spooling to a temp file
  util::ProgressMode progress = util::ProgressMode::auto_tty;
  bool compute_digests = true;
  // For a digest alone (no output) of an uncompressed tar file: while the canonical stream repeats
  // the input byte for byte, compare it with the input instead of hashing it (a memcmp is much
  // cheaper than SHA-256). If the input turns out canonical, LayerResult::same_as_input is set and
  // diff_id is left empty: it is the input's own sha256, which the caller computes anyway. On the
  // first difference the common prefix is hashed from the input, so any other input costs at most
  // that prefix's comparison.
  bool compare_with_input = false;
};

struct LayerResult {
  std::string input_compression; // "none", "gzip", ... ("directory" for a rootfs)
  std::string diff_id;           // sha256 of the canonical tar (when digests are computed)
  std::string blob_digest;       // sha256 of the compressed output
  std::uint64_t tar_size = 0;
  std::uint64_t blob_size = 0;
  bool same_as_input = false; // NormalizeOptions::compare_with_input found the input canonical
  TarEnding input_ending = TarEnding::end_blocks; // how the input tar ended (a Go-style ending is read)
};

// Normalises one layer into out (null: only the digests are computed, nothing is written).
LayerResult normalize_layer(const LayerSource& source, const NormalizeOptions& options, util::ByteSink* out,
                            Report& report);

} // namespace reproimg::normalize
