// Comparing two file trees entry by entry: every differing attribute, grouped into causes.
#pragma once

#include "diff/difference.hpp"
#include "diff/tree_index.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reproimg::diff {

struct CompareOptions {
  std::vector<std::string> excludes;           // globs: paths (and what is below) not compared
  std::size_t max_diff_lines = 40;             // per text file
  std::size_t max_explained_contents = 500;    // differing contents looked into (nested formats, hunks)
  std::uint64_t max_content_bytes = 32u << 20; // bytes of one content read for an explanation
  std::uint64_t max_inflate = 64u << 20;       // a nested gzip payload larger than this is not looked into
};

// What `--profile debian` does to a path: nothing, drop it (with what is below it), or empty it (a
// regular file: it stays, with size 0).
enum class ProfileAction { none, drops, empties };
struct ProfileRule {
  ProfileAction action = ProfileAction::none;
  std::string glob; // the profile's glob that matches the path or a parent
};
ProfileRule debian_profile_rule(const std::string& path);

// Is path one of the known volatile paths (logs, caches, machine-id, ssh host keys, ...)?
bool is_volatile_path(const std::string& path, readers::EntryType type);

struct TreeComparison {
  std::size_t compared = 0;       // paths in both trees
  std::size_t entry_differences = 0;
  std::size_t excluded = 0;       // paths not compared (--exclude): the streams may differ there
  bool order_differs = false;
};

// Appends the differences between a and b to out. layer is the layer index the records belong to
// (none for flattened filesystems).
TreeComparison compare_trees(const Tree& a, const Tree& b, std::optional<int> layer, const CompareOptions& options,
                             std::vector<Difference>& out);

} // namespace reproimg::diff
