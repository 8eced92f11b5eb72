// Which paths of a layer are whiteouts and opaque markers (the overlay itself is a template).
#include "image/overlay.hpp"

#include <string_view>

namespace reproimg::image {

namespace {

constexpr std::string_view k_prefix = ".wh.";
constexpr std::string_view k_opaque = ".wh..wh..opq";

bool whiteout_name(std::string_view name)
{
  return name.substr(0, k_prefix.size()) == k_prefix;
}

} // namespace

LayerPath classify_layer_path(const std::string& path)
{
  const auto slash = path.rfind('/');
  const std::string parent = slash == std::string::npos ? std::string() : path.substr(0, slash);
  const std::string_view name = slash == std::string::npos ? std::string_view(path) : std::string_view(path).substr(slash + 1);
  // A whiteout name above the last component: nothing a file system can hold.
  for (size_t start = 0; start < parent.size();) {
    size_t end = parent.find('/', start);
    if (end == std::string::npos) {
      end = parent.size();
    }
    if (whiteout_name(std::string_view(parent).substr(start, end - start))) {
      return {LayerPath::Kind::hidden, {}};
    }
    start = end + 1;
  }
  if (!whiteout_name(name)) {
    return {LayerPath::Kind::entry, {}};
  }
  if (name == k_opaque) {
    return {LayerPath::Kind::opaque, parent};
  }
  const std::string_view removed = name.substr(k_prefix.size());
  // ".wh." alone names nothing; ".wh..wh.*" other than the opaque marker is AUFS's own metadata
  // (.wh..wh.plnk, .wh..wh.aufs), which Docker skips.
  if (removed.empty() || whiteout_name(removed)) {
    return {LayerPath::Kind::hidden, {}};
  }
  return {LayerPath::Kind::whiteout, parent.empty() ? std::string(removed) : parent + "/" + std::string(removed)};
}

} // namespace reproimg::image
