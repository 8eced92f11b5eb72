// Entry-by-entry comparison of two trees.
#include "diff/compare.hpp"

#include "diff/content_detail.hpp"
#include "image/json.hpp"
#include "normalize/path.hpp"
#include "normalize/policy.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace reproimg::diff {

namespace {

using readers::EntryType;

const normalize::Policy& debian_profile()
{
  static const normalize::Policy policy = [] {
    normalize::Policy p;
    normalize::apply_profile(p, "debian");
    return p;
  }();
  return policy;
}

std::string time_text(std::int64_t seconds, long nsec)
{
  std::string s = image::rfc3339(seconds);
  if (nsec > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ".%09ld", nsec);
    s.insert(s.size() - 1, buf);
  }
  return s;
}

std::string mode_text(std::uint32_t mode)
{
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

Json optional_time(const std::optional<std::int64_t>& t)
{
  return t ? Json(image::rfc3339(*t)) : Json(nullptr);
}

Json printable(const std::string& s)
{
  return Json(util::printable(s));
}

// A tree's view of hardlinks: the record that carries the data, and the groups.
class Links {
public:
  explicit Links(const Tree& t) : m_tree(t)
  {
    for (const FileRecord* r : t.records) {
      if (r->type == EntryType::hardlink) {
        const FileRecord* anchor = resolve(r);
        const std::string key = anchor ? anchor->path : r->link_target;
        m_groups[key].insert(r->path);
        m_groups[key].insert(key);
        m_group_of[r->path] = key;
        m_group_of[key] = key;
      }
    }
  }

  // The record holding r's data: r itself unless it is a hardlink.
  const FileRecord* resolve(const FileRecord* r) const
  {
    for (int hops = 0; r && r->type == EntryType::hardlink && hops < 16; ++hops) {
      const auto it = m_tree.by_path.find(r->link_target);
      r = it == m_tree.by_path.end() ? nullptr : it->second;
    }
    return r && r->type == EntryType::hardlink ? nullptr : r;
  }

  // The other paths sharing path's inode, sorted.
  std::vector<std::string> peers(const std::string& path) const
  {
    std::vector<std::string> out;
    const auto g = m_group_of.find(path);
    if (g == m_group_of.end()) {
      return out;
    }
    for (const auto& p : m_groups.at(g->second)) {
      if (p != path) {
        out.push_back(p);
      }
    }
    return out;
  }

private:
  const Tree& m_tree;
  std::map<std::string, std::set<std::string>> m_groups;
  std::map<std::string, std::string> m_group_of;
};

bool excluded(const std::string& path, const CompareOptions& options)
{
  for (const auto& g : options.excludes) {
    if (normalize::glob_matches_path_or_parent(g, path)) {
      return true;
    }
  }
  return false;
}

struct PendingContent {
  size_t record; // index in out of the content record
  const FileRecord* a;
  const FileRecord* b;
};

Json xattr_value(const readers::Xattrs& x, const std::string& name)
{
  for (const auto& [n, v] : x) {
    if (n == name) {
      return printable(v);
    }
  }
  return nullptr;
}

// Where a record's path stands: volatile or not, and what the debian profile does to it.
struct PathClass {
  bool is_volatile = false;
  ProfileAction profile = ProfileAction::none;
};

// normalize removes these without being asked: names cleared, atime/ctime and xattrs other than
// security.capability dropped.
bool removed_by_defaults(Cause cause, const Difference& d)
{
  switch (cause) {
  case Cause::pax_time:
  case Cause::owner_name: return true;
  case Cause::xattr:
    return std::none_of(d.attributes.begin(), d.attributes.end(),
                        [](const auto& x) { return x.first == "xattr.security.capability"; });
  default: return false;
  }
}

// The options that remove a record of cause at a path of class pc. emptying_removes_it: the record
// is only the differing contents of two regular files, which the profile's emptying makes equal.
Remedies remedies_for(Cause cause, const PathClass& pc, bool emptying_removes_it)
{
  Remedies r;
  r.epoch = cause == Cause::mtime;
  r.debian_profile = pc.profile == ProfileAction::drops || (pc.profile == ProfileAction::empties && emptying_removes_it);
  r.exclude = pc.is_volatile;
  return r;
}

// A volatile path's own differences (contents, type, presence) go with the path; its other
// attributes are normalizable as anywhere else, or where the profile drops the path.
bool is_normalizable(Cause cause, const Remedies& r)
{
  return cause == Cause::volatile_path || r.epoch || r.debian_profile;
}

// One tree comparison: the records go to out, the contents to explain are collected on the way.
class TreeComparer {
public:
  TreeComparer(const Tree& a, const Tree& b, std::optional<int> layer, const CompareOptions& options,
               std::vector<Difference>& out)
      : m_a(a), m_b(b), m_links_a(a), m_links_b(b), m_layer(layer), m_options(options), m_out(out),
        m_first_record(out.size())
  {
  }

  TreeComparison run()
  {
    walk_paths();
    explain_contents();
    add_content_digests();
    compare_order();
    return m_result;
  }

private:
  Difference& record(Cause cause, const std::string& path, bool normalizable)
  {
    Difference d;
    d.cause = cause;
    d.path = path;
    d.layer = m_layer;
    d.normalizable = normalizable;
    m_out.push_back(std::move(d));
    return m_out.back();
  }

  // Both indexes in path order, side by side.
  void walk_paths()
  {
    auto ia = m_a.by_path.begin();
    auto ib = m_b.by_path.begin();
    while (ia != m_a.by_path.end() || ib != m_b.by_path.end()) {
      const bool take_a = ib == m_b.by_path.end() || (ia != m_a.by_path.end() && ia->first <= ib->first);
      const bool take_b = ia == m_a.by_path.end() || (ib != m_b.by_path.end() && ib->first <= ia->first);
      const std::string& path = take_a ? ia->first : ib->first;
      const FileRecord* ra = take_a ? ia->second : nullptr;
      const FileRecord* rb = take_b ? ib->second : nullptr;
      if (take_a) ++ia;
      if (take_b) ++ib;
      if (excluded(path, m_options)) {
        ++m_result.excluded;
      } else if (!ra || !rb) {
        record_one_sided(path, ra, rb);
      } else {
        ++m_result.compared;
        compare_entries(path, ra, rb);
      }
    }
  }

  // A path in one tree only: added or removed, or a volatile path (what --profile debian or
  // --exclude leaves out).
  void record_one_sided(const std::string& path, const FileRecord* ra, const FileRecord* rb)
  {
    const FileRecord* r = ra ? ra : rb;
    const PathClass pc{is_volatile_path(path, r->type), debian_profile_rule(path).action};
    const Cause cause = pc.is_volatile ? Cause::volatile_path : ra ? Cause::removed : Cause::added;
    const Remedies remedies = remedies_for(cause, pc, false);
    Difference& d = record(cause, path, is_normalizable(cause, remedies));
    d.remedies = remedies;
    d.add("type", ra ? Json(readers::type_name(ra->type)) : Json(nullptr),
          rb ? Json(readers::type_name(rb->type)) : Json(nullptr));
    if (r->type == EntryType::regular) {
      d.add("size", ra ? Json(ra->size) : Json(nullptr), rb ? Json(rb->size) : Json(nullptr));
    }
    ++m_result.entry_differences;
  }

  // Every differing attribute of a path in both trees, grouped by the cause it belongs to.
  struct Found {
    std::map<Cause, Difference> by_cause;
    bool regular_contents = false; // a content difference of two regular files (else a device's)
    const FileRecord* data_a = nullptr; // the data-carrying records (hardlinks resolved)
    const FileRecord* data_b = nullptr;
  };

  Found attribute_differences(const std::string& path, const FileRecord* ra, const FileRecord* rb) const
  {
    Found f;
    f.data_a = m_links_a.resolve(ra);
    f.data_b = m_links_b.resolve(rb);
    const EntryType ta = f.data_a ? f.data_a->type : ra->type;
    const EntryType tb = f.data_b ? f.data_b->type : rb->type;
    auto put = [&](Cause c, std::string name, Json x, Json y) {
      auto& d = f.by_cause[c];
      d.cause = c;
      d.add(std::move(name), std::move(x), std::move(y));
    };
    if (ta != tb) {
      put(Cause::type, "type", readers::type_name(ta), readers::type_name(tb));
    }
    if (ra->mtime != rb->mtime || ra->mtime_nsec != rb->mtime_nsec) {
      put(Cause::mtime, "mtime", time_text(ra->mtime, ra->mtime_nsec), time_text(rb->mtime, rb->mtime_nsec));
    }
    if (ra->atime != rb->atime) put(Cause::pax_time, "atime", optional_time(ra->atime), optional_time(rb->atime));
    if (ra->ctime != rb->ctime) put(Cause::pax_time, "ctime", optional_time(ra->ctime), optional_time(rb->ctime));
    if (ra->uid != rb->uid) put(Cause::owner_id, "uid", ra->uid, rb->uid);
    if (ra->gid != rb->gid) put(Cause::owner_id, "gid", ra->gid, rb->gid);
    if (ra->uname != rb->uname) put(Cause::owner_name, "uname", printable(ra->uname), printable(rb->uname));
    if (ra->gname != rb->gname) put(Cause::owner_name, "gname", printable(ra->gname), printable(rb->gname));
    if (ra->mode != rb->mode) put(Cause::mode, "mode", mode_text(ra->mode), mode_text(rb->mode));
    if (ra->xattrs != rb->xattrs) {
      std::set<std::string> names;
      for (const auto& x : ra->xattrs) names.insert(x.first);
      for (const auto& x : rb->xattrs) names.insert(x.first);
      for (const auto& n : names) {
        Json x = xattr_value(ra->xattrs, n);
        Json y = xattr_value(rb->xattrs, n);
        if (x != y) put(Cause::xattr, "xattr." + util::printable(n), x, y);
      }
    }
    const auto peers_a = m_links_a.peers(path);
    const auto peers_b = m_links_b.peers(path);
    if (peers_a != peers_b) {
      put(Cause::hardlink, "hardlinked_with", peers_a, peers_b);
    }
    if (ta == tb && ta == EntryType::symlink && ra->link_target != rb->link_target) {
      put(Cause::link_target, "link_target", printable(ra->link_target), printable(rb->link_target));
    }
    if (ta == tb && (ta == EntryType::chardev || ta == EntryType::blockdev) &&
        (ra->devmajor != rb->devmajor || ra->devminor != rb->devminor)) {
      put(Cause::content, "device", std::to_string(ra->devmajor) + ":" + std::to_string(ra->devminor),
          std::to_string(rb->devmajor) + ":" + std::to_string(rb->devminor));
    }
    if (ta == tb && ta == EntryType::regular && f.data_a && f.data_b && !compare_content(*f.data_a, *f.data_b).equal) {
      put(Cause::content, "size", f.data_a->size, f.data_b->size);
      f.regular_contents = true;
    }
    return f;
  }

  void compare_entries(const std::string& path, const FileRecord* ra, const FileRecord* rb)
  {
    Found f = attribute_differences(path, ra, rb);
    if (f.by_cause.empty()) {
      return;
    }
    ++m_result.entry_differences;
    const PathClass pc{is_volatile_path(path, ra->type), debian_profile_rule(path).action};
    if (f.by_cause.count(Cause::type)) {
      record_type_change(path, pc, f);
      return;
    }
    // One record per cause, as on any path; a volatile path's contents are its volatility.
    for (auto& [found_cause, fd] : f.by_cause) {
      const bool volatile_contents = found_cause == Cause::content && pc.is_volatile;
      const Cause cause = volatile_contents ? Cause::volatile_path : found_cause;
      const bool by_defaults = removed_by_defaults(cause, fd);
      const Remedies remedies = by_defaults ? Remedies{} : remedies_for(cause, pc, volatile_contents && f.regular_contents);
      Difference& d = record(cause, path, by_defaults || is_normalizable(cause, remedies));
      d.remedies = remedies;
      d.attributes = std::move(fd.attributes);
      if (cause == Cause::mtime) {
        d.earliest_time = std::min(ra->mtime, rb->mtime);
      }
      if (cause == Cause::content && f.regular_contents) {
        m_pending.push_back({m_out.size() - 1, f.data_a, f.data_b});
      }
    }
  }

  // A type change gets one record holding every attribute (the finer causes would mislead):
  // `type`, or `volatile-path` on a volatile path.
  void record_type_change(const std::string& path, const PathClass& pc, Found& f)
  {
    const Cause cause = pc.is_volatile ? Cause::volatile_path : Cause::type;
    const Remedies remedies = remedies_for(cause, pc, false);
    Difference& d = record(cause, path, is_normalizable(cause, remedies));
    d.remedies = remedies;
    for (auto& [c, fd] : f.by_cause) {
      for (auto& attr : fd.attributes) {
        d.attributes.push_back(std::move(attr));
      }
    }
  }

  // Contents: why do they differ? Read back (a batch per layer for hashed contents) only these.
  void explain_contents()
  {
    if (m_pending.size() > m_options.max_explained_contents) {
      m_pending.resize(m_options.max_explained_contents);
    }
    std::map<const LayerIndex*, std::vector<std::uint64_t>> batches;
    for (const auto& p : m_pending) {
      for (const FileRecord* r : {p.a, p.b}) {
        if (r->content.kind == ContentHandle::Kind::hashed && r->content.layer) {
          batches[r->content.layer].push_back(r->content.ordinal);
        }
      }
    }
    for (const auto& [layer_index, ordinals] : batches) {
      layer_index->keep_contents(ordinals, m_options.max_content_bytes);
    }
    // Hardlink names resolve to the same data records: each pair of contents is read and explained
    // once, whatever the number of names it has.
    std::map<std::pair<const FileRecord*, const FileRecord*>, std::optional<ContentExplanation>> explained;
    for (const auto& p : m_pending) {
      auto [it, first] = explained.try_emplace({p.a, p.b});
      if (first) {
        const auto ca = read_content(*p.a, m_options.max_content_bytes);
        const auto cb = read_content(*p.b, m_options.max_content_bytes);
        if (ca && cb) {
          const bool truncated = p.a->size > m_options.max_content_bytes || p.b->size > m_options.max_content_bytes;
          it->second = explain_content(*ca, *cb, truncated, m_options.max_diff_lines, m_options.max_inflate);
        }
      }
      if (!it->second) {
        continue;
      }
      Difference& d = m_out[p.record];
      ContentExplanation e = *it->second;
      if (e.only_embedded_timestamps) {
        d.cause = Cause::embedded_timestamp;
      }
      d.add("format", e.format, e.format);
      for (auto& attr : e.attributes) {
        d.attributes.push_back(std::move(attr));
      }
      d.detail = std::move(e.detail);
    }
  }

  // The identities, for whoever wants to check by hand (hashes only of what differs).
  void add_content_digests()
  {
    for (size_t i = m_first_record; i < m_out.size(); ++i) {
      Difference& d = m_out[i];
      if (d.cause != Cause::content && d.cause != Cause::embedded_timestamp) {
        continue;
      }
      const FileRecord* xa = m_links_a.resolve(m_a.by_path.at(d.path));
      const FileRecord* xb = m_links_b.resolve(m_b.by_path.at(d.path));
      if (xa && xb && xa->type == EntryType::regular && xb->type == EntryType::regular) {
        d.add("sha256", content_digest(*xa), content_digest(*xb));
      }
    }
  }

  // Order: the common paths, in each side's stored order.
  void compare_order()
  {
    if (!m_a.ordered || !m_b.ordered) {
      return;
    }
    std::vector<const std::string*> sa;
    std::vector<const std::string*> sb;
    for (const FileRecord* r : m_a.records) {
      if (m_b.by_path.count(r->path) && !excluded(r->path, m_options)) sa.push_back(&r->path);
    }
    for (const FileRecord* r : m_b.records) {
      if (m_a.by_path.count(r->path) && !excluded(r->path, m_options)) sb.push_back(&r->path);
    }
    for (size_t i = 0; i < sa.size() && i < sb.size(); ++i) {
      if (*sa[i] != *sb[i]) {
        m_result.order_differs = true;
        Difference& d = record(Cause::order, "", true);
        d.add("position", i, i);
        d.add("entry", printable(*sa[i]), printable(*sb[i]));
        break;
      }
    }
  }

  const Tree& m_a;
  const Tree& m_b;
  const Links m_links_a;
  const Links m_links_b;
  const std::optional<int> m_layer;
  const CompareOptions& m_options;
  std::vector<Difference>& m_out;
  const size_t m_first_record;
  std::vector<PendingContent> m_pending;
  TreeComparison m_result;
};

} // namespace

// Whether glob can match path or one of its parents: whatever it matches starts with the glob's
// literal prefix (up to its first wildcard), and a parent is a prefix of path. A cheap test that
// spares fnmatch (slow in a UTF-8 locale) for most paths.
namespace {
bool may_match(const std::string& glob, const std::string& path)
{
  const size_t literal = std::min(glob.find_first_of("*?[\\"), glob.size());
  return path.compare(0, literal, glob, 0, literal) == 0;
}
} // namespace

ProfileRule debian_profile_rule(const std::string& path)
{
  // Excludes first: a path both lists match is dropped, as normalize drops it.
  const auto& p = debian_profile();
  for (const auto& g : p.excludes) {
    if (may_match(g, path) && normalize::glob_matches_path_or_parent(g, path)) {
      return {ProfileAction::drops, g};
    }
  }
  for (const auto& g : p.truncates) {
    if (may_match(g, path) && normalize::glob_matches_path_or_parent(g, path)) {
      return {ProfileAction::empties, g};
    }
  }
  return {};
}

bool is_volatile_path(const std::string& path, readers::EntryType type)
{
  if (debian_profile_rule(path).action != ProfileAction::none) {
    return true;
  }
  // A directory under var/log or var/cache differs in its mtime because its files changed: that
  // is the files' volatility, the directory itself is an mtime difference.
  return type != readers::EntryType::directory && (path.rfind("var/log/", 0) == 0 || path.rfind("var/cache/", 0) == 0);
}

TreeComparison compare_trees(const Tree& a, const Tree& b, std::optional<int> layer, const CompareOptions& options,
                             std::vector<Difference>& out)
{
  return TreeComparer(a, b, layer, options, out).run();
}

} // namespace reproimg::diff
