// Canonical layer paths: relative, no "./", "//" or "/./", no trailing '/'; ".." refused.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace reproimg::normalize {

enum class PathStatus { ok, root, unsafe, empty };

struct CanonicalPath {
  PathStatus status;
  std::string path; // set when status == ok
};

CanonicalPath canonical_path(std::string_view raw);

// fnmatch-style glob match of a canonical path, also true when the glob matches an ancestor
// directory ("var/log" excludes everything below it). '*' crosses '/'.
bool glob_matches_path_or_parent(const std::string& glob, const std::string& path);

} // namespace reproimg::normalize
