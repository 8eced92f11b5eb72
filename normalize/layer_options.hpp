// What normalising one layer is asked to do, and what it gives back.
#pragma once

#include "normalize/policy.hpp"
#include "readers/tar_reader.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <string>

namespace reproimg::normalize {

class EntryObserver;

// Whether the read of a tar input also hashes it as stored (LayerResult::input_*): the blob digest
// and the diff_id then come from the same decompression as the canonical stream.
enum class InputIdentities { skip, compute };

struct NormalizeOptions {
  Policy policy;
  Compression compression = Compression::none;
  unsigned threads = 1;             // compression threads (--threads); the bytes are the same for any count
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
  // Sees every entry as read, with its content's sha256 (normalize/entry_observer.hpp); a tar
  // input is then also hashed as stored (LayerResult::input_*). Not with compare_with_input.
  EntryObserver* observer = nullptr;
  // An observer computes them too. Not with compare_with_input (which wants an uncompressed file
  // read by offset, not every byte hashed).
  InputIdentities input_identities = InputIdentities::skip;
};

struct LayerResult {
  std::string input_compression; // "none", "gzip", ... ("directory" for a rootfs)
  std::string diff_id;           // sha256 of the canonical tar (when digests are computed)
  std::string blob_digest;       // sha256 of the compressed output
  std::uint64_t tar_size = 0;
  std::uint64_t blob_size = 0;
  bool same_as_input = false; // NormalizeOptions::compare_with_input found the input canonical
  readers::TarEnding input_ending = readers::TarEnding::end_blocks; // how the input tar ended (a Go-style ending is read)
  // With an observer or InputIdentities::compute, of a tar input: its blob digest and size, its
  // diff_id and tar size as stored, its entries as read.
  std::string input_blob_digest;
  std::uint64_t input_blob_size = 0;
  std::string input_diff_id;
  std::uint64_t input_tar_size = 0;
  std::uint64_t input_entries = 0;
  // What compressed the blob (empty with Compression::none): the library, its version, and whether
  // it passed the known-answer check (docs/canonical-tar.md §7.4; "fail": the blob digest is not
  // the canonical one, the diff_id is).
  struct Compressor {
    std::string library;
    std::string version;
    std::string known_answer; // "pass" or "fail"
  } compressor;
};

} // namespace reproimg::normalize
