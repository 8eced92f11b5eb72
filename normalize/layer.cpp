// The canonical layer builder and writer.
#include "normalize/layer.hpp"

#include "normalize/path.hpp"
#include "normalize/tar_writer.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <optional>
#include <string_view>
#include <utility>

namespace reproimg::normalize {

namespace {

bool is_whiteout(const std::string& path)
{
  const auto slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return base.rfind(".wh.", 0) == 0;
}

std::string strip_trailing_slashes(std::string s)
{
  while (s.size() > 1 && s.back() == '/') {
    s.pop_back();
  }
  return s;
}

} // namespace

void ContentStore::copy(const readers::Entry& e, util::ByteSink& sink)
{
  if (e.size == 0) {
    return;
  }
  switch (e.content.where) {
  case readers::ContentRef::Where::none:
    throw util::Error(util::Location{"", e.path, std::nullopt}, "internal error: content missing");
  case readers::ContentRef::Where::spool:
    m_spool.copy_to(e.content.offset, e.size, sink);
    return;
  case readers::ContentRef::Where::source: {
    std::uint64_t offset = e.content.offset;
    std::uint64_t left = e.size;
    while (left > 0) {
      // Read straight into the sink's memory where it lends some (a background hasher's queue).
      std::span<unsigned char> room = sink.lend();
      const bool lent = !room.empty();
      if (!lent) {
        if (m_buffer.empty()) {
          m_buffer.resize(1 << 20);
        }
        room = m_buffer;
      }
      const size_t n = left < room.size() ? static_cast<size_t>(left) : room.size();
      // A read error is reported as itself (IoError); only the end of the file means truncated.
      if (util::pread_until_end(m_source_fd, room.data(), n, offset, m_source_name) < n) {
        throw util::Error(util::Location{m_source_name, e.path, static_cast<std::int64_t>(offset)},
                          "unexpected end of file inside the entry's data (truncated archive)");
      }
      if (lent) {
        sink.write_lent(n);
      } else {
        sink.write(room.data(), n);
      }
      offset += n;
      left -= n;
    }
    return;
  }
  case readers::ContentRef::Where::disk: {
    const std::string& path = m_disk_paths.at(e.content.offset);
    util::Fd fd = util::open_read(path);
    if (m_buffer.empty()) {
      m_buffer.resize(1 << 20);
    }
    std::uint64_t left = e.size;
    while (left > 0) {
      const size_t want = left < m_buffer.size() ? static_cast<size_t>(left) : m_buffer.size();
      const size_t n = util::read_full(fd.get(), m_buffer.data(), want, path);
      if (n == 0) {
        throw util::Error(util::Location{path, std::nullopt, std::nullopt}, "file shrank while being read");
      }
      sink.write(m_buffer.data(), n);
      left -= n;
    }
    char extra = 0;
    if (util::read_full(fd.get(), &extra, 1, path) != 0) {
      throw util::Error(util::Location{path, std::nullopt, std::nullopt}, "file grew while being read");
    }
    return;
  }
  }
}

LayerBuilder::LayerBuilder(const Policy& policy, Report& report, ContentStore& store, std::string input_name)
    : m_policy(policy), m_report(report), m_store(store), m_input_name(std::move(input_name))
{
}

void LayerBuilder::on_warning(const std::string& message)
{
  m_report.warn(message);
}

bool LayerBuilder::empties(const std::string& path) const
{
  if (is_whiteout(path)) {
    return true;
  }
  for (const auto& glob : m_policy.truncates) {
    if (glob_matches_path_or_parent(glob, path)) {
      return true;
    }
  }
  return false;
}

std::uint32_t LayerBuilder::group_of(size_t slot_index)
{
  Slot& s = m_slots[slot_index];
  if (s.group == 0) {
    m_groups.push_back(s.entry);
    s.group = static_cast<std::uint32_t>(m_groups.size());
  }
  return s.group;
}

std::optional<std::string> LayerBuilder::kept_path(const readers::SourceEntry& src, const util::Location& where)
{
  const CanonicalPath cp = canonical_path(src.path);
  switch (cp.status) {
  case PathStatus::root:
    m_report.note("root-entry-dropped", src.path);
    return std::nullopt;
  case PathStatus::empty:
    throw util::Error(where, "empty path");
  case PathStatus::unsafe:
    throw util::Error(where, "path has a '..' component (unsafe layer)");
  case PathStatus::ok:
    break;
  }
  const std::string& path = cp.path;
  if (path != strip_trailing_slashes(src.path)) {
    m_report.note("path", src.path);
  }
  for (const auto& glob : m_policy.excludes) {
    if (glob_matches_path_or_parent(glob, path)) {
      m_report.note("exclude", path);
      if (src.type != readers::EntryType::directory) {
        m_excluded.insert(path);
      }
      return std::nullopt;
    }
  }
  if (src.type == readers::EntryType::socket) {
    m_report.note("socket-dropped", path);
    m_report.warn(util::Error::format(where, "socket dropped (a layer cannot carry one)"));
    return std::nullopt;
  }
  return path;
}

void LayerBuilder::set_owner(const readers::SourceEntry& src, readers::Entry& e)
{
  e.uid = src.uid;
  e.gid = src.gid;
  if (m_policy.owner) {
    if (e.uid != m_policy.owner->first || e.gid != m_policy.owner->second) {
      m_report.note("owner-forced", e.path);
    }
    e.uid = m_policy.owner->first;
    e.gid = m_policy.owner->second;
  } else {
    const auto u = m_policy.uid_map.find(e.uid);
    const auto g = m_policy.gid_map.find(e.gid);
    if (u != m_policy.uid_map.end() || g != m_policy.gid_map.end()) {
      m_report.note("owner-mapped", e.path);
    }
    if (u != m_policy.uid_map.end()) e.uid = u->second;
    if (g != m_policy.gid_map.end()) e.gid = g->second;
  }
  if (m_policy.keep_names) {
    e.uname = src.uname;
    e.gname = src.gname;
  } else if (!src.uname.empty() || !src.gname.empty()) {
    m_report.note("owner-name", e.path);
  }
}

void LayerBuilder::set_times(const readers::SourceEntry& src, readers::Entry& e)
{
  const std::int64_t mtime =
      m_policy.mtime == MtimePolicy::set ? m_policy.epoch : std::min(src.mtime, m_policy.epoch);
  if (mtime != src.mtime) {
    m_report.note("mtime", e.path);
  } else if (src.mtime_nsec != 0) {
    m_report.note("mtime-subsecond", e.path);
  }
  e.mtime = mtime;
  if (src.has_atime || src.has_ctime || src.has_birthtime) {
    m_report.note("pax-time", e.path);
  }
  if (src.has_acl) {
    m_report.note("acl", e.path);
  }
  if (src.has_fflags) {
    m_report.note("fflags", e.path);
  }
}

void LayerBuilder::set_xattrs(readers::SourceEntry& src, readers::Entry& e)
{
  // Noted once per entry, like every other rule: bsdtar's pax writes each xattr twice
  // (LIBARCHIVE.xattr.* and SCHILY.xattr.*), and libarchive reads back both.
  bool xattr_dropped = false;
  for (auto& [name, value] : src.xattrs) {
    const bool keep = m_policy.xattrs == XattrPolicy::all ||
                      (m_policy.xattrs == XattrPolicy::capability && name == "security.capability");
    if (keep) {
      e.xattrs.emplace_back(name, value);
    } else {
      xattr_dropped = true;
    }
  }
  if (xattr_dropped) {
    m_report.note("xattr", e.path);
  }
  // Sorted by name; of a name given twice the last value wins, as with every other attribute.
  std::reverse(e.xattrs.begin(), e.xattrs.end());
  std::stable_sort(e.xattrs.begin(), e.xattrs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  e.xattrs.erase(std::unique(e.xattrs.begin(), e.xattrs.end(),
                             [](const auto& a, const auto& b) { return a.first == b.first; }),
                 e.xattrs.end());
}

void LayerBuilder::link_hardlink(const readers::SourceEntry& src, Slot& slot, const util::Location& where)
{
  readers::Entry& e = slot.entry;
  const CanonicalPath target = canonical_path(src.link_target);
  if (target.status == PathStatus::unsafe) {
    throw util::Error(where, "hardlink target has a '..' component (unsafe layer)");
  }
  if (target.status != PathStatus::ok) {
    throw util::Error(where, "hardlink to an empty or root path");
  }
  e.link_target = target.path;
  const auto it = m_by_path.find(target.path);
  if (it == m_by_path.end() && m_excluded.count(target.path)) {
    // The data would be gone and the link left dangling: the user must decide.
    throw util::Error(where, "hardlink to '" + target.path + "', which --exclude removes; exclude the link too");
  }
  if (it == m_by_path.end()) {
    m_report.note("hardlink-dangling", e.path);
    m_report.warn(util::Error::format(where, "hardlink target '" + target.path + "' is not in the layer; kept as is"));
  } else if (m_slots[it->second].entry.type == readers::EntryType::directory) {
    throw util::Error(where, "hardlink to a directory");
  } else {
    slot.group = group_of(it->second);
  }
}

void LayerBuilder::take_contents(const readers::SourceEntry& src, readers::EntryData& data, readers::Entry& e, const util::Location& where)
{
  const std::string& path = e.path;
  bool empty = false;
  if (src.size > 0 && is_whiteout(path)) {
    m_report.note("whiteout-emptied", path);
    empty = true;
  }
  for (const auto& glob : m_policy.truncates) {
    if (!empty && src.size > 0 && glob_matches_path_or_parent(glob, path)) {
      m_report.note("truncate", path);
      empty = true;
    }
  }
  if (src.sparse) {
    m_report.note("sparse-expanded", path);
  }
  if (empty || src.size == 0) {
    e.size = 0;
    return;
  }
  e.size = src.size;
  if (const auto off = data.source_offset()) {
    e.content = {readers::ContentRef::Where::source, *off};
  } else if (const auto disk = data.disk_path()) {
    e.content = {readers::ContentRef::Where::disk, m_store.add_disk_path(*disk)};
  } else {
    util::Spool& spool = m_store.spool();
    const std::uint64_t start = spool.begin();
    util::SpoolSink sink(spool);
    data.read(sink, m_policy.max_sparse_fill);
    if (sink.bytes() != e.size) {
      throw util::Error(where, "content size differs from the header's size");
    }
    e.content = {readers::ContentRef::Where::spool, start};
  }
}

void LayerBuilder::on_entry(readers::SourceEntry& src, readers::EntryData& data)
{
  ++m_report.entries_in;
  const std::uint64_t seq = m_seq++;
  const util::Location where{m_input_name, src.path, std::nullopt};
  const std::optional<std::string> path = kept_path(src, where);
  if (!path) {
    return;
  }

  Slot slot;
  slot.seq = seq;
  readers::Entry& e = slot.entry;
  e.path = *path;
  e.type = src.type;
  e.mode = src.mode & 07777;
  set_owner(src, e);
  set_times(src, e);
  set_xattrs(src, e);
  switch (e.type) {
  case readers::EntryType::hardlink: link_hardlink(src, slot, where); break;
  case readers::EntryType::symlink: e.link_target = src.link_target; break;
  case readers::EntryType::chardev:
  case readers::EntryType::blockdev:
    e.devmajor = src.devmajor;
    e.devminor = src.devminor;
    break;
  case readers::EntryType::regular: take_contents(src, data, e, where); break;
  case readers::EntryType::directory:
  case readers::EntryType::fifo:
  case readers::EntryType::socket: break;
  }

  // A path seen again replaces the earlier entry (what extraction would leave).
  const auto [it, inserted] = m_by_path.try_emplace(*path, m_slots.size());
  if (!inserted) {
    m_slots[it->second].dead = true;
    m_report.note("duplicate-replaced", *path);
    it->second = m_slots.size();
  }
  m_slots.push_back(std::move(slot));
}

std::vector<readers::Entry> LayerBuilder::finish()
{
  // Paths are unique among the live slots, so this order is total. The keys are sorted in an array
  // of their own: comparisons then do not reach into the slots (a few hundred bytes apart).
  std::vector<std::pair<std::string_view, size_t>> keys;
  keys.reserve(m_slots.size());
  for (size_t i = 0; i < m_slots.size(); ++i) {
    if (!m_slots[i].dead) {
      keys.emplace_back(m_slots[i].entry.path, i);
    }
  }
  std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<size_t> order;
  order.reserve(keys.size());
  for (const auto& key : keys) {
    order.push_back(key.second);
  }
  for (size_t i = 1; i < order.size(); ++i) {
    if (m_slots[order[i]].seq < m_slots[order[i - 1]].seq) {
      m_report.note("order", m_slots[order[i]].entry.path);
    }
  }

  // --truncate and whiteouts empty an inode, whichever of its paths they name: decided over all
  // live members of a hardlink group, so the result does not depend on which path carried the data.
  std::vector<bool> empty_group(m_groups.size(), false);
  for (size_t idx : order) {
    const Slot& s = m_slots[idx];
    if (s.group != 0 && !empty_group[s.group - 1] && m_groups[s.group - 1].size > 0 &&
        m_groups[s.group - 1].type == readers::EntryType::regular && empties(s.entry.path)) {
      empty_group[s.group - 1] = true;
      m_report.note("truncate", s.entry.path);
    }
  }

  std::vector<readers::Entry> out;
  out.reserve(order.size());
  std::vector<std::string> carrier(m_groups.size()); // the first path of each group, once seen
  for (size_t idx : order) {
    Slot& s = m_slots[idx];
    if (s.group == 0) {
      out.push_back(std::move(s.entry));
      continue;
    }
    const readers::Entry& inode = m_groups[s.group - 1];
    readers::Entry e = inode;
    e.path = s.entry.path;
    if (empty_group[s.group - 1]) {
      e.size = 0;
      e.content = {};
    }
    std::string& first = carrier[s.group - 1];
    if (first.empty()) {
      first = e.path;
      if (e.path != inode.path) {
        m_report.note("hardlink", e.path);
      }
    } else {
      e.type = readers::EntryType::hardlink;
      e.link_target = first;
      e.size = 0;
      e.content = {};
    }
    out.push_back(std::move(e));
  }
  m_report.entries_out = out.size();
  return out;
}

namespace {

class TarDataSink : public util::ByteSink {
public:
  TarDataSink(CanonicalTarWriter& w, util::Progress& progress) : m_w(w), m_progress(progress) {}
  void write(const void* data, size_t size) override
  {
    m_w.write_data(data, size);
    m_progress.add(size);
  }
  std::span<unsigned char> lend() override { return m_w.lend_data(); }
  void write_lent(size_t size) override
  {
    m_w.write_lent_data(size);
    m_progress.add(size);
  }

private:
  CanonicalTarWriter& m_w;
  util::Progress& m_progress;
};

} // namespace

void write_canonical_layer(const std::vector<readers::Entry>& entries, ContentStore& store, util::ByteSink& sink,
                           util::Progress& progress)
{
  std::uint64_t contents = 0;
  for (const readers::Entry& e : entries) {
    contents += e.type == readers::EntryType::regular ? e.size : 0;
  }
  progress.add_total(contents, entries.size());
  CanonicalTarWriter writer(sink);
  TarDataSink data(writer, progress); // contents counted as they are written
  for (const readers::Entry& e : entries) {
    writer.begin_entry(e);
    if (e.type == readers::EntryType::regular) {
      store.copy(e, data);
    }
    writer.end_entry();
    progress.add(0, 1);
  }
  writer.finish();
}

} // namespace reproimg::normalize
