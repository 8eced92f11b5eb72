// Canonical layer paths and glob matching.
#include "normalize/path.hpp"

#include <fnmatch.h>

namespace reproimg::normalize {

CanonicalPath canonical_path(std::string_view raw)
{
  if (raw.empty()) {
    return {PathStatus::empty, {}};
  }
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i <= raw.size()) {
    size_t j = raw.find('/', i);
    if (j == std::string_view::npos) {
      j = raw.size();
    }
    const std::string_view part = raw.substr(i, j - i);
    if (part == "..") {
      return {PathStatus::unsafe, {}};
    }
    if (!part.empty() && part != ".") {
      if (!out.empty()) {
        out += '/';
      }
      out.append(part);
    }
    i = j + 1;
  }
  if (out.empty()) {
    return {PathStatus::root, {}};
  }
  return {PathStatus::ok, std::move(out)};
}

bool glob_matches_path_or_parent(const std::string& glob, const std::string& path)
{
  // Users write "/var/log/*" or "./var/log/*" as often as "var/log/*".
  size_t start = 0;
  while (start < glob.size() && (glob[start] == '/' || (glob[start] == '.' && start + 1 < glob.size() && glob[start + 1] == '/'))) {
    ++start;
  }
  std::string pattern = glob.substr(start);
  while (pattern.size() > 1 && pattern.back() == '/') {
    pattern.pop_back();
  }
  if (fnmatch(pattern.c_str(), path.c_str(), 0) == 0) {
    return true;
  }
  for (size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    if (fnmatch(pattern.c_str(), path.substr(0, pos).c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

} // namespace reproimg::normalize
