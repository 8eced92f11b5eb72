// One read of a layer for lock and verify: its identities as stored, its canonical diff_id under a
// policy, and (when asked) its entries with their contents' digests, all in the same pass.
#pragma once

#include "diff/tree_index.hpp"
#include "readers/layer_source.hpp"
#include "normalize/policy.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace reproimg::verify {

enum class FileList { read, skipped };

struct LayerPass {
  std::string compression;
  std::string blob_digest; // of a tar input (checked against the source's expectation when it has one)
  std::uint64_t blob_size = 0;
  std::string diff_id;
  std::string canonical_diff_id;
};

using Indexes = std::vector<std::unique_ptr<diff::LayerIndex>>;

// With FileList::read, the layer's entries (last occurrence of a path kept, contents known by
// digest) are appended to indexes, for diff::flatten.
LayerPass read_layer(const readers::LayerSource& source, const normalize::Policy& policy, FileList files, int number,
                     util::ProgressMode progress, Indexes& indexes);

} // namespace reproimg::verify
