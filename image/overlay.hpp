// The overlay of an image's layers: one layer's entries applied onto a tree of paths, as the OCI
// image spec's "Applying Changesets" and "Whiteouts" sections say and containerd and umoci do.
// Generic over what a node carries (build keeps metadata, diff keeps records); the rules:
//  - whiteouts (.wh.NAME) and opaque markers (DIR/.wh..wh..opq) act on the lower layers only, so
//    an entry of the same layer at or below what they remove stays; .wh.NAME removes NAME and
//    everything below it, an opaque marker what the lower layers have below DIR (DIR itself and
//    its attributes stay); a whiteout of a path that does not exist does nothing;
//  - an entry over an existing path replaces it: a directory over a directory takes its attributes
//    and keeps its content; anything else removes the old path and everything below it first (a
//    file replacing a directory drops the directory's content);
//  - a hardlink names an entry of its own layer, or else what the lower layers have there; when
//    the path holding a file's data goes away (whited out, replaced, or under a replaced
//    directory), the links to it keep the data: the first of them in path order takes it, the
//    others link to that one;
//  - markers never appear in the tree, nor does any path with a component starting with ".wh."
//    (such names cannot exist in an image's file system); a path stored twice in one layer counts
//    once, the last time, as extraction keeps it;
//  - the order of the entries within a layer does not change the result.
// Paths are taken as written, canonical ("a/b", no "./", no trailing '/'; "" is the root, which
// is never a node): no directory is made for a missing parent, and a parent that is a symlink or
// another non-directory is not followed or replaced (extractors differ there).
#pragma once

#include <concepts>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace reproimg::image {

// What a layer's path means to the overlay, from its components.
struct LayerPath {
  enum class Kind : std::uint8_t {
    entry,    // a file, directory, link, ... to put in the tree
    whiteout, // .wh.NAME: target is the path it removes from the lower layers
    opaque,   // DIR/.wh..wh..opq: target is DIR ("" for the root)
    hidden,   // no effect and not in the tree: ".wh." alone, AUFS metadata (.wh..wh.plnk and the
              // like), anything below a component starting with ".wh."
  };
  Kind kind = Kind::entry;
  std::string target;
};

LayerPath classify_layer_path(const std::string& path);

// What the overlay asks of the nodes it keeps (Nodes is an object, so it may own what it makes).
//  is_directory(n):  n is a directory (only a directory over a directory keeps what is below it);
//  hardlink_target(n): the canonical path n is a hardlink to, or nullptr if n is no hardlink;
//  linked(link, anchor_path, anchor): link as the tree keeps it when it shares the data of
//    anchor, which is at anchor_path (a node that keeps hardlinks returns link pointing at
//    anchor_path; one that does not may return anchor's data);
//  detached(link, link_path, anchor): link at link_path, standing alone with anchor's data,
//    when anchor's path has gone away.
template <typename Nodes, typename Node>
concept OverlayNodes = std::copy_constructible<Node> &&
                       requires(Nodes& nodes, const Node& n, const std::string& path) {
                         { nodes.is_directory(n) } -> std::convertible_to<bool>;
                         { nodes.hardlink_target(n) } -> std::convertible_to<const std::string*>;
                         { nodes.linked(n, path, n) } -> std::convertible_to<Node>;
                         { nodes.detached(n, path, n) } -> std::convertible_to<Node>;
                       };

template <typename Node, typename Nodes>
  requires OverlayNodes<Nodes, Node>
class Overlay {
public:
  using Layer = std::vector<std::pair<std::string, Node>>;
  using Tree = std::map<std::string, Node>;

  explicit Overlay(Nodes nodes = Nodes()) : m_nodes(std::move(nodes)) {}

  // Applies one layer: its entries (whiteout and opaque files among them) in stored order.
  void apply(Layer layer)
  {
    Pass pass;
    std::set<std::string> opaque;
    std::set<std::string> whiteouts;
    for (auto& [path, node] : layer) {
      LayerPath lp = classify_layer_path(path);
      switch (lp.kind) {
      case LayerPath::Kind::entry:
        if (!path.empty()) {
          pass.upper.insert_or_assign(path, std::move(node));
        }
        break;
      case LayerPath::Kind::whiteout:
        whiteouts.insert(std::move(lp.target));
        break;
      case LayerPath::Kind::opaque:
        opaque.insert(std::move(lp.target));
        break;
      case LayerPath::Kind::hidden:
        break;
      }
    }
    // Where each hardlink of the layer finds its data, before anything changes.
    for (const auto& [path, node] : pass.upper) {
      if (const std::string* target = m_nodes.hardlink_target(node)) {
        if (auto anchor = resolve(*target, pass.upper)) {
          if (anchor->lower) {
            pass.lower_anchors.insert(anchor->path);
          }
          pass.links.emplace(path, std::move(*anchor));
        }
      }
    }
    // Whiteouts and opaque markers: the lower layers only, so before the layer's entries.
    for (const auto& dir : opaque) {
      remove_below(dir, pass);
    }
    for (const auto& path : whiteouts) {
      remove_path(path, pass);
    }
    // The entries, parents before children; links after the files they may name.
    for (const auto& [path, node] : pass.upper) {
      if (!m_nodes.hardlink_target(node)) {
        place(path, node, pass);
      }
    }
    for (const auto& [path, node] : pass.upper) {
      if (m_nodes.hardlink_target(node)) {
        const auto link = pass.links.find(path);
        if (link == pass.links.end()) {
          place(path, node, pass); // names nothing: kept as it is
        } else if (link->second.lower) {
          place(path, m_nodes.linked(node, link->second.path, *link->second.node), pass);
        } else {
          pass.upper_anchored.insert(path);
          place(path, m_nodes.linked(node, link->second.path, m_tree.at(link->second.path)), pass);
        }
      }
    }
    keep_orphaned_data(pass);
  }

  const Node* find(const std::string& path) const
  {
    const auto it = m_tree.find(path);
    return it == m_tree.end() ? nullptr : &it->second;
  }

  const Tree& tree() const { return m_tree; }
  Tree take() && { return std::move(m_tree); }

private:
  static constexpr int k_max_link_hops = 64;

  struct Anchor {
    std::string path;
    bool lower = false;
    std::optional<Node> node; // lower: the node as it was before the layer
  };

  // What one layer's application keeps track of.
  struct Pass {
    Tree upper;                                 // the layer's entries by path
    std::map<std::string, Anchor> links;        // the layer's hardlinks that name something
    std::set<std::string> lower_anchors;        // lower paths the layer's hardlinks name
    std::set<std::string> upper_anchored;       // the layer's hardlinks to its own entries
    std::map<std::string, Node> orphaned;       // linked-to data whose path went away
  };

  // A hardlink's target followed to the node holding the data: the layer's own entry at that
  // path, else the lower tree's.
  std::optional<Anchor> resolve(std::string path, const Tree& upper)
  {
    bool lower = false;
    for (int hops = 0; hops < k_max_link_hops; ++hops) {
      if (!lower) {
        if (const auto u = upper.find(path); u != upper.end()) {
          if (const std::string* next = m_nodes.hardlink_target(u->second)) {
            path = *next;
            continue;
          }
          return Anchor{path, false, std::nullopt};
        }
      }
      const auto l = m_tree.find(path);
      if (l == m_tree.end()) {
        return std::nullopt;
      }
      if (const std::string* next = m_nodes.hardlink_target(l->second)) {
        path = *next;
        lower = true;
        continue;
      }
      return Anchor{path, true, l->second};
    }
    return std::nullopt;
  }

  typename Tree::iterator erase(typename Tree::iterator it, Pass& pass)
  {
    const std::string& path = it->first;
    if (const std::string* target = m_nodes.hardlink_target(it->second)) {
      const auto group = m_links.find(*target);
      if (group != m_links.end()) {
        group->second.erase(path);
        if (group->second.empty()) {
          m_links.erase(group);
        }
      }
    } else if (m_links.count(path) || pass.lower_anchors.count(path)) {
      pass.orphaned.try_emplace(path, it->second);
    }
    return m_tree.erase(it);
  }

  // Everything strictly below dir ("" : the whole tree) but this layer's own entries.
  void remove_below(const std::string& dir, Pass& pass)
  {
    const std::string prefix = dir.empty() ? std::string() : dir + "/";
    auto it = m_tree.lower_bound(prefix);
    while (it != m_tree.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
      it = pass.upper.count(it->first) ? std::next(it) : erase(it, pass);
    }
  }

  void remove_path(const std::string& path, Pass& pass)
  {
    if (const auto it = m_tree.find(path); it != m_tree.end()) {
      erase(it, pass);
    }
    remove_below(path, pass);
  }

  void place(const std::string& path, Node node, Pass& pass)
  {
    const auto it = m_tree.find(path);
    if (it != m_tree.end() && m_nodes.is_directory(it->second) && m_nodes.is_directory(node)) {
      it->second = std::move(node);
      return;
    }
    remove_path(path, pass);
    const auto placed = m_tree.emplace(path, std::move(node)).first;
    if (const std::string* target = m_nodes.hardlink_target(placed->second)) {
      if (pass.links.count(path)) {
        m_links[*target].insert(path);
      }
    }
  }

  // The links to data whose path went away: the first in path order takes the data, the others
  // (and the layer's links to it) link to that one.
  void keep_orphaned_data(Pass& pass)
  {
    for (const auto& [old_path, data] : pass.orphaned) {
      const auto group = m_links.find(old_path);
      if (group == m_links.end()) {
        continue;
      }
      std::vector<std::string> heirs;
      for (const auto& p : group->second) {
        if (!pass.upper_anchored.count(p)) {
          heirs.push_back(p);
        }
      }
      if (heirs.empty()) {
        continue;
      }
      for (const auto& p : heirs) {
        group->second.erase(p);
      }
      if (group->second.empty()) {
        m_links.erase(group);
      }
      Node& head = m_tree.at(heirs.front());
      head = m_nodes.detached(head, heirs.front(), data);
      for (size_t i = 1; i < heirs.size(); ++i) {
        Node& n = m_tree.at(heirs[i]);
        n = m_nodes.linked(n, heirs.front(), head);
        if (m_nodes.hardlink_target(n)) {
          m_links[heirs.front()].insert(heirs[i]);
        }
      }
    }
  }

  Nodes m_nodes;
  Tree m_tree;
  std::map<std::string, std::set<std::string>> m_links; // data's path -> the hardlinks to it
};

} // namespace reproimg::image
