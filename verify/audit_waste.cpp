// dive's space accounting, reimplemented to give its figures: each layer is a tree of its entries
// (parents made implicitly); every leaf of every layer adds its size to its path's total (a
// whiteout adds the size of what it removes when that was a directory, else nothing); a path
// seen in two or more layers wastes its whole total; efficiency is the sum over paths of the
// smallest size seen divided by the sum of the totals. Layers are stacked as dive stacks them:
// an implicit parent's payload is empty (not a directory, size 0).
#include "verify/audit_layers.hpp"

#include "image/overlay.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace reproimg::verify {

namespace {

struct Payload {
  std::uint64_t size = 0;
  bool dir = false;
};

using Stacked = std::map<std::string, Payload>;

bool opaque_or_below(const std::string& path)
{
  return path.find(".wh..wh.") != std::string::npos;
}

// The layer as dive's tree: every entry and every implicit parent, with payloads.
Stacked layer_tree(const LayerData& layer)
{
  Stacked tree;
  for (const auto& e : layer.entries) {
    if (opaque_or_below(e.path)) continue;
    for (size_t slash = e.path.find('/'); slash != std::string::npos; slash = e.path.find('/', slash + 1)) {
      tree.try_emplace(e.path.substr(0, slash), Payload{});
    }
    tree[e.path] = Payload{e.size, e.type == readers::EntryType::directory};
  }
  return tree;
}

bool has_children(const Stacked& tree, const std::string& path)
{
  const auto it = tree.lower_bound(path + "/");
  return it != tree.end() && it->first.compare(0, path.size() + 1, path + "/") == 0;
}

std::string whiteout_target(const std::string& path)
{
  const auto slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.rfind(".wh.", 0) != 0) return "";
  return (slash == std::string::npos ? "" : path.substr(0, slash + 1)) + base.substr(4);
}

void remove_subtree(Stacked& tree, const std::string& path)
{
  tree.erase(path);
  auto it = tree.lower_bound(path + "/");
  while (it != tree.end() && it->first.compare(0, path.size() + 1, path + "/") == 0) it = tree.erase(it);
}

std::uint64_t subtree_size(const Stacked& tree, const std::string& path)
{
  const auto node = tree.find(path);
  if (node == tree.end() || !node->second.dir) return 0;
  std::uint64_t sum = node->second.size;
  for (auto it = tree.lower_bound(path + "/");
       it != tree.end() && it->first.compare(0, path.size() + 1, path + "/") == 0; ++it) {
    sum += it->second.size;
  }
  return sum;
}

struct PathData {
  std::uint64_t cumulative = 0;
  std::uint64_t min = 0;
  std::size_t nodes = 0;
};

} // namespace

Waste measure_waste(const std::vector<LayerData>& layers)
{
  Waste w;
  std::map<std::string, PathData> paths;
  Stacked stacked;
  for (size_t l = 0; l < layers.size(); ++l) {
    const Stacked tree = layer_tree(layers[l]);
    const Stacked& before = l == 0 ? tree : stacked;
    for (const auto& [path, payload] : tree) {
      if (has_children(tree, path)) continue;
      const std::string target = whiteout_target(path);
      const std::uint64_t size = target.empty() ? payload.size : subtree_size(before, target);
      PathData& d = paths[target.empty() ? path : target];
      d.min = d.nodes == 0 ? size : std::min(d.min, size);
      d.cumulative += size;
      ++d.nodes;
    }
    for (const auto& [path, payload] : tree) {
      if (const std::string target = whiteout_target(path); !target.empty()) remove_subtree(stacked, target);
    }
    for (const auto& [path, payload] : tree) {
      if (whiteout_target(path).empty()) stacked[path] = payload;
    }
    w.size_bytes += layers[l].tar_bytes;
    if (l > 0) w.user_size_bytes += layers[l].tar_bytes;
  }
  std::uint64_t minimum = 0;
  std::uint64_t discovered = 0;
  for (const auto& [path, d] : paths) {
    minimum += d.min;
    discovered += d.cumulative;
    if (d.nodes >= 2) {
      w.wasted_bytes += d.cumulative;
      w.inefficiencies.push_back({path, d.nodes, d.cumulative});
    }
  }
  w.efficiency = discovered == 0 ? 1.0 : static_cast<double>(minimum) / static_cast<double>(discovered);
  w.wasted_user_percent =
      w.user_size_bytes == 0 ? 0.0 : static_cast<double>(w.wasted_bytes) / static_cast<double>(w.user_size_bytes);
  std::stable_sort(w.inefficiencies.begin(), w.inefficiencies.end(),
                   [](const Waste::Path& a, const Waste::Path& b) { return a.cumulative_size > b.cumulative_size; });
  return w;
}

void check_waste(const Waste& w, std::vector<Finding>& out)
{
  if (w.wasted_bytes == 0) return;
  std::vector<std::string> paths;
  nlohmann::json top = nlohmann::json::array();
  for (const auto& p : w.inefficiencies) {
    if (p.cumulative_size == 0 || paths.size() == 20) continue;
    paths.push_back(p.path);
    top.push_back({{"path", p.path}, {"count", p.count}, {"cumulative_size", p.cumulative_size}});
  }
  char eff[32];
  std::snprintf(eff, sizeof eff, "%.4f", w.efficiency);
  Finding f = make_finding("wasted-space", std::nullopt, paths,
                           std::to_string(w.wasted_bytes) +
                               " bytes in paths that several layers store (dive's count), efficiency " + eff + ", " +
                               std::to_string(w.inefficiencies.size()) + " paths");
  f.attributes["wasted_bytes"] = w.wasted_bytes;
  f.attributes["efficiency"] = w.efficiency;
  f.attributes["inefficiencies"] = top;
  out.push_back(std::move(f));
}

} // namespace reproimg::verify
