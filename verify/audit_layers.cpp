// Across layers: the overlay's view of what stays visible, and dive's efficiency.
#include "verify/audit_layers.hpp"

#include "image/overlay.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace reproimg::verify {

namespace {

using readers::EntryType;

// What the overlay keeps per path: where the data came from.
struct Origin {
  int layer = 0;
  std::string path;
  EntryType type = EntryType::regular;
  std::string link; // a hardlink's canonical target
};

struct OriginNodes {
  bool is_directory(const Origin& n) const { return n.type == EntryType::directory; }
  const std::string* hardlink_target(const Origin& n) const
  {
    return n.type == EntryType::hardlink ? &n.link : nullptr;
  }
  Origin linked(const Origin& link, const std::string& anchor_path, const Origin&) const
  {
    Origin o = link;
    o.link = anchor_path;
    return o;
  }
  Origin detached(const Origin&, const std::string&, const Origin& anchor) const { return anchor; }
};

// How layer `by` hides path: it stores the path, whites it (or a parent) out, makes a parent
// opaque, or replaces a parent with a non-directory. Empty: it does not.
std::string hiding(const std::map<std::string, const AuditEntry*>& entries, const std::set<std::string>& whiteouts,
                   const std::set<std::string>& opaque, const std::string& path)
{
  if (entries.count(path)) return "overwritten";
  if (whiteouts.count(path)) return "deleted";
  if (opaque.count("")) return "deleted (opaque root)";
  for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string parent = path.substr(0, slash);
    if (whiteouts.count(parent)) return "deleted with " + parent;
    if (opaque.count(parent)) return "deleted (" + parent + " made opaque)";
    const auto it = entries.find(parent);
    if (it != entries.end() && it->second->type != EntryType::directory) return "replaced with " + parent;
  }
  return "";
}

struct LayerPaths {
  std::map<std::string, const AuditEntry*> entries;
  std::set<std::string> whiteouts;
  std::set<std::string> opaque;
};

LayerPaths paths_of(const LayerData& layer)
{
  LayerPaths out;
  for (const auto& e : layer.entries) {
    const image::LayerPath lp = image::classify_layer_path(e.path);
    switch (lp.kind) {
    case image::LayerPath::Kind::entry: out.entries.emplace(e.path, &e); break;
    case image::LayerPath::Kind::whiteout: out.whiteouts.insert(lp.target); break;
    case image::LayerPath::Kind::opaque: out.opaque.insert(lp.target); break;
    case image::LayerPath::Kind::hidden: break;
    }
  }
  return out;
}

bool is_secret(const LayerData& layer, const std::string& path)
{
  for (const auto& [secret, check] : layer.secret_paths) {
    if (path == secret || path.rfind(secret + "/", 0) == 0) return true;
  }
  return false;
}

} // namespace

void check_hidden(const std::vector<LayerData>& layers, std::vector<Finding>& out)
{
  if (layers.size() < 2) return;
  image::Overlay<Origin, OriginNodes> overlay;
  for (const auto& layer : layers) {
    image::Overlay<Origin, OriginNodes>::Layer entries;
    for (const auto& e : layer.entries)
      entries.emplace_back(e.path, Origin{layer.number, e.path, e.type, e.link_target});
    overlay.apply(std::move(entries));
  }
  std::set<std::pair<int, std::string>> visible;
  for (const auto& [path, o] : overlay.tree()) visible.emplace(o.layer, o.path);
  std::vector<LayerPaths> paths;
  for (const auto& layer : layers) paths.push_back(paths_of(layer));
  for (size_t l = 0; l + 1 < layers.size(); ++l) {
    for (const auto& e : layers[l].entries) {
      if (e.whiteout || e.type != EntryType::regular || e.size == 0 || visible.count({layers[l].number, e.path}))
        continue;
      std::string how;
      size_t by = l + 1;
      for (; by < layers.size() && how.empty(); ++by) {
        how = hiding(paths[by].entries, paths[by].whiteouts, paths[by].opaque, e.path);
      }
      if (how.empty()) continue; // hidden within its own layer's links: not a later layer's doing
      const int later = layers[by - 1].number;
      const bool secret = is_secret(layers[l], e.path);
      Finding f = make_finding("hidden-by-later-layer", layers[l].number, {e.path},
                               std::to_string(e.size) + " bytes " + how + " by layer " + std::to_string(later) +
                                   ", still readable in layer " + std::to_string(layers[l].number) + "'s blob" +
                                   (secret ? " (a secret: it was never removed)" : ""));
      f.attributes["size"] = e.size;
      f.attributes["hidden_by_layer"] = later;
      f.attributes["secret"] = secret;
      out.push_back(std::move(f));
    }
  }
}

} // namespace reproimg::verify
