// What a layer blob must be, as its image says: the descriptor's digest and size, the config's
// diff_id. A reader given one checks every byte it reads against it before its answer counts.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace reproimg::readers {

struct BlobExpectation {
  std::string digest;                 // "sha256:..." of the bytes as stored; empty: unknown
  std::optional<std::uint64_t> size;  // of the bytes as stored
  std::string diff_id;                // "sha256:..." of the uncompressed tar; empty: unknown
  std::string diff_id_source;         // for messages: "the config's rootfs.diff_ids[N]"
  // Called when the bytes are not the digest or size above: for a blob from a cache, which
  // removes its copy; returns what the error adds (" (the cached copy ... was removed)").
  std::function<std::string()> on_mismatch;
};

} // namespace reproimg::readers
