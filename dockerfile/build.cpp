// Builds: the base image's layers kept as they are (or none, FROM scratch), the build context, the
// image's file tree, one canonical layer per ADD, COPY (and WORKDIR that creates a directory),
// then config, manifest and index through the ImageWriter, written atomically.
#include "dockerfile/build.hpp"

#include "image/config_changes.hpp"
#include "dockerfile/dockerfile.hpp"
#include "dockerfile/dockerignore.hpp"
#include "image/image_source.hpp"
#include "image/image_writer.hpp"
#include "image/overlay.hpp"
#include "normalize/entries_pipeline.hpp"
#include "normalize/path.hpp"
#include "readers/tar_reader.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/syscalls.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <fnmatch.h>
#include <memory>
#include <optional>
#include <set>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace reproimg::dockerfile {

namespace {

using readers::EntryData;
using readers::EntryType;
using readers::EntryVisitor;
using readers::SourceEntry;
using Owner = std::pair<std::int64_t, std::int64_t>;

// Docker's classic builder wrote config-only steps this way; the text after it is the
// instruction, and for ADD/COPY a content hash instead of host paths.
constexpr const char* k_nop = "/bin/sh -c #(nop) ";
constexpr int k_max_symlinks = 40;

std::string join(const std::string& a, const std::string& b)
{
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

std::vector<std::string> split_path(const std::string& p)
{
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) {
      j = p.size();
    }
    if (j > i) {
      out.push_back(p.substr(i, j - i));
    }
    i = j + 1;
  }
  return out;
}

// path (relative to a root) with the symlinks on it followed inside that root: link_of(prefix)
// gives the target of the symlink at prefix, or nothing; an absolute target starts again at the
// root, ".." stops there; the last component is followed only if follow_last. loop_message is the
// error for more than k_max_symlinks hops.
template <typename LinkOf>
std::string resolve_in_root(const std::string& path, bool follow_last, LinkOf link_of, const std::string& loop_message)
{
  std::deque<std::string> todo;
  for (auto& c : split_path(path)) todo.push_back(c);
  std::vector<std::string> done;
  int hops = 0;
  while (!todo.empty()) {
    const std::string comp = todo.front();
    todo.pop_front();
    if (comp == ".") {
      continue;
    }
    if (comp == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    std::string candidate;
    for (const auto& d : done) candidate = join(candidate, d);
    candidate = join(candidate, comp);
    if (!todo.empty() || follow_last) {
      if (const std::optional<std::string> target = link_of(candidate)) {
        if (++hops > k_max_symlinks) {
          throw util::Error(loop_message);
        }
        if (!target->empty() && target->front() == '/') {
          done.clear();
        }
        const auto parts = split_path(*target);
        todo.insert(todo.begin(), parts.begin(), parts.end());
        continue;
      }
    }
    done.push_back(comp);
  }
  std::string out;
  for (const auto& d : done) out = join(out, d);
  return out;
}

std::string base_name(const std::string& p)
{
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// "/a/b" (clean, absolute) -> "a/b"; "/" -> "".
std::string image_relative(const std::string& absolute)
{
  return absolute.size() > 1 ? absolute.substr(1) : std::string();
}

std::string read_link(const std::string& path, const struct stat& st)
{
  std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
  const ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
  if (n < 0) {
    util::throw_errno("cannot read symlink", path);
  }
  target.resize(static_cast<size_t>(n));
  return target;
}

bool has_wildcards(const std::string& s)
{
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '*' || s[i] == '?' || s[i] == '[') {
      return true;
    }
  }
  return false;
}

std::string unescape(const std::string& s)
{
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      ++i;
    }
    out += s[i];
  }
  return out;
}



// Metadata of what earlier layers put where: enough to follow symlinks in a destination and to
// repeat a parent directory's metadata in a later layer, as a layer diff does.
struct Node {
  EntryType type = EntryType::directory;
  std::uint32_t mode = 0755;
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::string link_target;
  std::string hardlink; // a hardlink's target until the overlay gives it the data it names

  // What the tree keeps of an entry, normalised or as read (a hardlink is a file until then).
  template <typename AnyEntry>
  static Node of(const AnyEntry& e)
  {
    Node n;
    n.type = e.type == EntryType::hardlink ? EntryType::regular : e.type;
    n.mode = e.mode;
    n.uid = e.uid;
    n.gid = e.gid;
    n.link_target = e.link_target;
    if (e.type == EntryType::hardlink) {
      const auto target = normalize::canonical_path(e.link_target);
      n.hardlink = target.status == normalize::PathStatus::ok ? target.path : e.link_target;
      n.link_target.clear();
    }
    return n;
  }
};

// How the overlay sees a Node: a hardlink takes the metadata of the file it names.
struct BuildNodes {
  bool is_directory(const Node& n) const { return n.type == EntryType::directory; }
  const std::string* hardlink_target(const Node& n) const { return n.hardlink.empty() ? nullptr : &n.hardlink; }
  Node linked(const Node&, const std::string&, const Node& data) const { return data; }
  Node detached(const Node&, const std::string&, const Node& data) const { return data; }
};

using TreeLayer = image::Overlay<Node, BuildNodes>::Layer;

class ImageTree {
public:
  // One layer's entries, whiteouts and opaque markers among them (image/overlay.hpp).
  void apply(TreeLayer layer) { m_overlay.apply(std::move(layer)); }

  const Node* find(const std::string& path) const { return m_overlay.find(path); }

  bool is_dir(const std::string& path) const
  {
    const Node* n = find(path);
    return path.empty() || (n && n->type == EntryType::directory);
  }

  // The path with symlinks in it followed inside the image (an absolute target starts at the
  // image root, ".." stops there); the last component only if follow_last.
  std::string resolve(const std::string& path, bool follow_last) const
  {
    auto link_of = [this](const std::string& candidate) -> std::optional<std::string> {
      const Node* n = find(candidate);
      if (n && n->type == EntryType::symlink) {
        return n->link_target;
      }
      return std::nullopt;
    };
    return resolve_in_root(path, follow_last, link_of, "/" + path + ": too many levels of symbolic links in the image");
  }

private:
  image::Overlay<Node, BuildNodes> m_overlay;
};

// The entries of a base image's layer, for the tree's overlay; libarchive's warnings about the
// layer go to the build's report (the layer is kept as it is: no other read sees them).
class BaseLayerReader : public EntryVisitor {
public:
  explicit BaseLayerReader(normalize::Report& report) : m_report(report) {}
  void on_entry(SourceEntry& e, EntryData&) override
  {
    const auto cp = normalize::canonical_path(e.path);
    if (cp.status == normalize::PathStatus::ok) {
      m_layer.emplace_back(cp.path, Node::of(e));
    }
  }
  void on_warning(const std::string& message) override { m_report.warn(message); }

  void apply(ImageTree& tree) { tree.apply(std::move(m_layer)); }

private:
  normalize::Report& m_report;
  TreeLayer m_layer;
};

// The build context: a directory, seen through .dockerignore; symlinks followed inside it only.
class BuildContext {
public:
  BuildContext(std::string root, DockerIgnore ignore) : m_root(std::move(root)), m_ignore(std::move(ignore)) {}

  std::string disk(const std::string& rel) const { return rel.empty() ? m_root : m_root + "/" + rel; }
  bool excluded(const std::string& rel) const { return !rel.empty() && m_ignore.excluded(rel); }

  // The build's own output, when it lies inside the context, is not part of it (it is being
  // written while the context is read, and its staging name is random).
  void hide(const std::string& path)
  {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      m_hidden.insert({st.st_dev, st.st_ino});
    }
  }
  bool hidden(const struct stat& st) const { return m_hidden.count({st.st_dev, st.st_ino}) > 0; }
  bool has_exceptions() const { return m_ignore.has_exceptions(); }
  // Whether a build may name rel: an excluded directory still may when a "!" pattern can bring
  // back something inside it (Docker sends it with that content).
  bool visible(const std::string& rel) const
  {
    if (!excluded(rel)) {
      return true;
    }
    struct stat st {};
    return has_exceptions() && ::lstat(disk(rel).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  // lstat of rel; false if it does not exist or is hidden.
  bool stat_of(const std::string& rel, struct stat& st) const { return ::lstat(disk(rel).c_str(), &st) == 0 && !hidden(st); }

  // A source as written -> its clean path in the context ("" is the context itself); a leading
  // '/' means the context root, as in Docker; ".." may not leave the context.
  static std::optional<std::string> clean_source(const std::string& source)
  {
    std::vector<std::string> parts;
    for (const auto& c : split_path(source)) {
      if (c == ".") {
        continue;
      }
      if (c == "..") {
        if (parts.empty()) {
          return std::nullopt;
        }
        parts.pop_back();
        continue;
      }
      parts.push_back(c);
    }
    std::string out;
    for (const auto& p : parts) out = join(out, p);
    return out;
  }

  // rel with every symlink followed, resolved as if the context were the root directory.
  std::string resolve(const std::string& rel) const
  {
    auto link_of = [this](const std::string& candidate) -> std::optional<std::string> {
      struct stat st {};
      if (::lstat(disk(candidate).c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
        return read_link(disk(candidate), st);
      }
      return std::nullopt;
    };
    return resolve_in_root(rel, true, link_of, rel + ": too many levels of symbolic links in the build context");
  }

  // Paths matching a pattern (Go's filepath.Match per component: '*' does not cross '/'),
  // sorted, without the ones .dockerignore excludes.
  std::vector<std::string> glob(const std::string& pattern) const
  {
    std::vector<std::string> current{""};
    for (const auto& comp : split_path(pattern)) {
      std::vector<std::string> next;
      for (const auto& base : current) {
        if (has_wildcards(comp)) {
          struct stat st {};
          if (::lstat(disk(base).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            continue;
          }
          for (const auto& name : util::sorted_directory_names(disk(base))) {
            struct stat child_st {};
            if (::fnmatch(comp.c_str(), name.c_str(), 0) == 0 && stat_of(join(base, name), child_st)) {
              next.push_back(join(base, name));
            }
          }
        } else {
          const std::string child = join(base, unescape(comp));
          struct stat st {};
          if (stat_of(child, st)) {
            next.push_back(child);
          }
        }
      }
      current = std::move(next);
    }
    current.erase(std::remove_if(current.begin(), current.end(), [&](const std::string& p) { return !visible(p); }),
                  current.end());
    std::sort(current.begin(), current.end());
    return current;
  }

private:
  std::string m_root;
  DockerIgnore m_ignore;
  std::set<std::pair<dev_t, ino_t>> m_hidden;
};


SourceEntry directory_entry(const std::string& path, std::uint32_t mode, Owner owner, std::int64_t mtime)
{
  SourceEntry e;
  e.path = path;
  e.type = EntryType::directory;
  e.mode = mode;
  e.uid = owner.first;
  e.gid = owner.second;
  e.mtime = mtime;
  return e;
}

// Puts one layer's entries into the layer builder: the directories on the way to each
// destination (first one wins; one an earlier layer made keeps its metadata, as a layer diff
// repeats it), then what is copied.
class LayerEmitter {
public:
  LayerEmitter(EntryVisitor& out, const ImageTree& tree, std::int64_t epoch, Owner owner)
      : m_out(out), m_tree(tree), m_epoch(epoch), m_owner(owner)
  {
  }

  bool has_dir(const std::string& path) const { return path.empty() || m_dirs.count(path) > 0; }

  void put(SourceEntry& e, EntryData& data)
  {
    if (e.type == EntryType::directory) {
      m_dirs.insert(e.path);
    }
    m_out.on_entry(e, data);
  }

  void put_dir(SourceEntry e)
  {
    readers::NoEntryData none;
    put(e, none);
  }

  void warn(const std::string& message) { m_out.on_warning(message); }

  // The ancestors of path (not path itself).
  void ensure_parents(const std::string& path)
  {
    std::string prefix;
    const auto parts = split_path(path);
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      prefix = join(prefix, parts[i]);
      ensure_dir(prefix, std::nullopt);
    }
  }

  // path as a directory: fresh gives the metadata of a new one (default: 0755, the owner, E).
  void ensure_dir(const std::string& path, const std::optional<SourceEntry>& fresh)
  {
    if (has_dir(path)) {
      return;
    }
    ensure_parents(path);
    if (const Node* n = m_tree.find(path)) {
      if (n->type != EntryType::directory) {
        throw util::Error("/" + path + " is a " + readers::type_name(n->type) +
                          " in the image, not a directory to copy into");
      }
      // Changed by this layer: its mtime is the build's, clamped to E.
      put_dir(directory_entry(path, n->mode, {n->uid, n->gid}, m_epoch));
      return;
    }
    if (fresh) {
      SourceEntry e = *fresh;
      e.path = path;
      put_dir(e);
    } else {
      put_dir(directory_entry(path, 0755, m_owner, m_epoch));
    }
  }

private:
  EntryVisitor& m_out;
  const ImageTree& m_tree;
  std::int64_t m_epoch;
  Owner m_owner;
  std::set<std::string> m_dirs;
};

// An archive's entries placed under a destination directory, as ADD extracts it.
class PlacingVisitor : public EntryVisitor {
public:
  PlacingVisitor(LayerEmitter& emitter, std::string prefix, std::optional<Owner> chown)
      : m_emitter(emitter), m_prefix(std::move(prefix)), m_chown(chown)
  {
  }

  void on_entry(SourceEntry& e, EntryData& data) override
  {
    const auto cp = normalize::canonical_path(e.path);
    if (cp.status == normalize::PathStatus::root) {
      return; // the destination exists: Docker's untar leaves its metadata alone
    }
    if (cp.status == normalize::PathStatus::ok) {
      e.path = join(m_prefix, cp.path);
      m_paths.push_back(e.path);
    }
    if (e.type == EntryType::hardlink) {
      const auto target = normalize::canonical_path(e.link_target);
      if (target.status == normalize::PathStatus::ok) {
        e.link_target = join(m_prefix, target.path);
      }
    }
    if (m_chown) {
      e.uid = m_chown->first;
      e.gid = m_chown->second;
    }
    m_emitter.put(e, data);
  }

  void on_warning(const std::string& message) override { m_emitter.warn(message); }

  // Directories the archive leaves out are created on extraction (0755, root or --chown).
  void add_missing_parents()
  {
    for (const auto& p : m_paths) {
      const auto parts = split_path(p.substr(m_prefix.empty() ? 0 : m_prefix.size() + 1));
      std::string dir = m_prefix;
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        dir = join(dir, parts[i]);
        m_emitter.ensure_dir(dir, std::nullopt);
      }
    }
  }

private:
  LayerEmitter& m_emitter;
  std::string m_prefix;
  std::optional<Owner> m_chown;
  std::vector<std::string> m_paths;
};

// Whether a file is a tar archive reproimg reads (any supported compression), by its content.
bool is_tar_archive(const std::string& path, const std::string& name)
{
  struct FirstEntry {};
  class Probe : public EntryVisitor {
  public:
    void on_entry(SourceEntry&, EntryData&) override { throw FirstEntry{}; }
    // A probe: an archive is then read again by extract(), whose PlacingVisitor passes the same
    // warnings on to the layer's report.
    void on_warning(const std::string&) override {}
  } probe;
  util::Fd fd = util::open_read(path);
  readers::TarInput input;
  input.name = name;
  input.fd = fd.get();
  util::Progress progress(util::ProgressMode::off, "");
  try {
    readers::read_tar(input, probe, progress);
  } catch (const FirstEntry&) {
    return true;
  } catch (const util::IoError&) {
    throw; // the archive could not be read: never copied as a plain file instead
  } catch (const util::Error&) {
    return false;
  }
  return false; // no entry: Docker copies an empty archive as a file
}

// The entries of one ADD or COPY instruction.
class CopyLayer {
public:
  CopyLayer(const BuildStep& step, const BuildContext& context, const ImageTree& tree, LayerEmitter& emitter)
      : m_step(step), m_context(context), m_tree(tree), m_emitter(emitter)
  {
  }

  // The sources, each checked: a context path, after wildcards.
  static std::vector<std::string> sources(const BuildStep& step, const BuildContext& context)
  {
    std::vector<std::string> matches;
    for (const auto& source : step.words) {
      const auto clean = BuildContext::clean_source(source);
      if (!clean) {
        throw util::Error("'" + util::printable(source) + "' is outside the build context");
      }
      if (has_wildcards(*clean)) {
        const auto found = context.glob(*clean);
        if (found.empty()) {
          throw util::Error("no file in the build context matches '" + util::printable(source) + "'");
        }
        matches.insert(matches.end(), found.begin(), found.end());
        continue;
      }
      const std::string real = context.resolve(*clean);
      struct stat st {};
      if (!context.stat_of(real, st)) {
        throw util::Error("'" + util::printable(source) + "': not found in the build context");
      }
      if (!context.visible(*clean) || !context.visible(real)) {
        throw util::Error("'" + util::printable(source) + "': excluded by .dockerignore");
      }
      matches.push_back(*clean);
    }
    return matches;
  }

  // Emits everything; returns "file", "dir" or "multi" for the history.
  std::string emit(const std::vector<std::string>& matches)
  {
    const bool many = matches.size() > 1;
    if (many && !m_step.dest_is_dir) {
      throw util::Error("the sources match more than one file: the destination must be a directory and end with /");
    }
    const std::string dest = image_relative(m_step.value);
    const std::string dest_dir = m_tree.resolve(dest, true);
    const std::string dest_file = m_tree.resolve(dest, false);
    const bool into_dir = m_step.dest_is_dir || many || m_tree.is_dir(dest_dir);
    std::string kind = many ? "multi" : "file";
    for (const auto& rel : matches) {
      // Each source is its own copy, as in BuildKit: hardlinks are kept within one source only.
      m_inodes.clear();
      const std::string real = m_context.resolve(rel);
      const std::string disk = m_context.disk(real);
      struct stat st {};
      if (::lstat(disk.c_str(), &st) != 0) {
        util::throw_errno("cannot read", rel.empty() ? "." : rel);
      }
      if (S_ISDIR(st.st_mode)) {
        // A directory's content is copied, not the directory itself.
        if (!many) {
          kind = "dir";
        }
        SourceEntry fresh = entry_from_stat(st, dest_dir);
        m_emitter.ensure_dir(dest_dir, fresh);
        walk(real, dest_dir, 0);
      } else if (m_step.add && S_ISREG(st.st_mode) && is_tar_archive(disk, rel)) {
        m_emitter.ensure_dir(dest_dir, std::nullopt);
        extract(disk, rel, dest_dir);
      } else {
        const std::string path = into_dir ? join(dest_dir, base_name(rel)) : dest_file;
        if (path.empty()) {
          throw util::Error("cannot copy a file onto the image root");
        }
        m_emitter.ensure_parents(path);
        emit_file(disk, st, path);
      }
    }
    return kind;
  }

private:
  Owner owner() const { return m_step.chown.value_or(Owner{0, 0}); }

  SourceEntry entry_from_stat(const struct stat& st, const std::string& path) const
  {
    SourceEntry e;
    e.path = path;
    e.mode = st.st_mode & 07777;
    if (m_step.chmod && !S_ISLNK(st.st_mode)) {
      e.mode = *m_step.chmod;
    }
    e.uid = owner().first;
    e.gid = owner().second;
    e.mtime = st.st_mtim.tv_sec;
    e.mtime_nsec = st.st_mtim.tv_nsec;
    if (S_ISDIR(st.st_mode)) {
      e.type = EntryType::directory;
    } else if (S_ISLNK(st.st_mode)) {
      e.type = EntryType::symlink;
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      e.type = S_ISCHR(st.st_mode) ? EntryType::chardev : EntryType::blockdev;
      e.devmajor = major(st.st_rdev);
      e.devminor = minor(st.st_rdev);
    } else if (S_ISFIFO(st.st_mode)) {
      e.type = EntryType::fifo;
    } else if (S_ISSOCK(st.st_mode)) {
      e.type = EntryType::socket;
    } else {
      e.type = EntryType::regular;
    }
    return e;
  }

  void emit_file(const std::string& disk, const struct stat& st, const std::string& path)
  {
    flush_pending();
    SourceEntry e = entry_from_stat(st, path);
    if (e.type == EntryType::symlink) {
      e.link_target = read_link(disk, st);
    }
    if (e.type != EntryType::regular) {
      readers::NoEntryData none;
      m_emitter.put(e, none);
      return;
    }
    if (st.st_nlink > 1) {
      const auto key = std::make_pair(st.st_dev, st.st_ino);
      const auto [it, first] = m_inodes.try_emplace(key, path);
      if (!first && it->second != path) {
        e.type = EntryType::hardlink;
        e.link_target = it->second;
        readers::NoEntryData none;
        m_emitter.put(e, none);
        return;
      }
    }
    e.size = static_cast<std::uint64_t>(st.st_size);
    readers::DiskFileData data(disk);
    m_emitter.put(e, data);
  }

  void flush_pending()
  {
    for (auto& d : m_pending) {
      m_emitter.put_dir(d);
    }
    m_pending.clear();
  }

  void walk(const std::string& rel, const std::string& dest, int depth)
  {
    if (depth > 4096) {
      throw util::Error(util::Location{m_context.disk(""), rel, std::nullopt}, "directory nesting too deep");
    }
    for (const auto& name : util::sorted_directory_names(m_context.disk(rel))) {
      const std::string child = join(rel, name);
      const std::string child_dest = join(dest, name);
      const std::string disk = m_context.disk(child);
      struct stat st {};
      if (::lstat(disk.c_str(), &st) != 0) {
        util::throw_errno("cannot stat", disk);
      }
      if (m_context.hidden(st)) {
        continue;
      }
      const bool excluded = m_context.excluded(child);
      if (S_ISDIR(st.st_mode)) {
        if (excluded && !m_context.has_exceptions()) {
          continue;
        }
        if (!excluded) {
          flush_pending();
          m_emitter.put_dir(entry_from_stat(st, child_dest));
          walk(child, child_dest, depth + 1);
        } else {
          // Kept only if a "!" pattern brings back something inside it.
          const size_t mark = m_pending.size();
          m_pending.push_back(entry_from_stat(st, child_dest));
          walk(child, child_dest, depth + 1);
          if (m_pending.size() > mark) {
            m_pending.resize(mark);
          }
        }
      } else if (!excluded) {
        emit_file(disk, st, child_dest);
      }
    }
  }

  void extract(const std::string& disk, const std::string& name, const std::string& dest)
  {
    PlacingVisitor placing(m_emitter, dest, m_step.chown);
    util::Fd fd = util::open_read(disk);
    readers::TarInput input;
    input.name = name;
    input.fd = fd.get();
    util::Progress progress(util::ProgressMode::off, "");
    readers::read_tar(input, placing, progress);
    placing.add_missing_parents();
  }

  const BuildStep& m_step;
  const BuildContext& m_context;
  const ImageTree& m_tree;
  LayerEmitter& m_emitter;
  std::map<std::pair<dev_t, ino_t>, std::string> m_inodes;
  std::vector<SourceEntry> m_pending; // excluded directories that may still be needed
};

// USER as the owner of a directory WORKDIR creates (numeric; a name needs /etc/passwd).
Owner user_owner(const std::string& user)
{
  if (user.empty()) {
    return {0, 0};
  }
  const auto colon = user.find(':');
  const std::string u = user.substr(0, colon);
  auto id = [&](const std::string& text) -> std::optional<std::int64_t> {
    if (text == "root") {
      return 0;
    }
    if (text.empty() || text.size() > 10 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    return std::stoll(text);
  };
  const auto uid = id(u);
  const auto gid = colon == std::string::npos ? uid : id(user.substr(colon + 1));
  if (!uid || !gid) {
    throw util::Error("the directory would be owned by USER " + util::printable(user) +
                      ", and a user or group name needs the image's /etc/passwd, which reproimg build does not "
                      "look up; use a numeric USER (e.g. USER 1000:1000) or put WORKDIR before USER");
  }
  return {*uid, *gid};
}

// The image FROM names, opened and checked before any layer is written.
struct BaseImage {
  std::string name; // as the Dockerfile names it
  std::unique_ptr<image::ImageStore> store;
  image::Image image;
  image::Json config; // the config as the new image inherits it (see inherited_config)
};

// What an image built on this config inherits, as BuildKit reads an image config into its
// structures: the OCI fields of the image and of its "config" section (and Docker's Healthcheck,
// OnBuild, Shell); empty values are dropped as Go's omitempty drops them; types are checked.
image::Json inherited_config(const image::Json& config, const std::string& what)
{
  auto bad = [&](const std::string& field, const char* want) {
    return util::Error(what + ": the image config's " + field + " is not " + want);
  };
  auto is_string_list = [](const image::Json& j) {
    return j.is_array() && std::all_of(j.begin(), j.end(), [](const image::Json& e) { return e.is_string(); });
  };
  auto is_empty = [](const image::Json& j) {
    return j.is_null() || (j.is_string() && j.get<std::string>().empty()) || (j.is_array() && j.empty()) ||
           (j.is_object() && j.empty()) || (j.is_boolean() && !j.get<bool>());
  };
  if (!config.is_object()) {
    throw util::Error(util::Location::of(what), "the image config is not a JSON object");
  }
  image::Json out = image::Json::object();
  for (const char* key : {"architecture", "os", "variant", "os.version", "author"}) {
    if (config.contains(key) && !is_empty(config[key])) {
      if (!config[key].is_string()) {
        throw bad(key, "a string");
      }
      out[key] = config[key];
    }
  }
  if (config.contains("os.features") && !is_empty(config["os.features"])) {
    if (!is_string_list(config["os.features"])) {
      throw bad("os.features", "a list of strings");
    }
    out["os.features"] = config["os.features"];
  }
  image::Json section = image::Json::object();
  if (config.contains("config") && !config["config"].is_null()) {
    const image::Json& c = config["config"];
    if (!c.is_object()) {
      throw bad("config", "an object");
    }
    for (const auto& [key, value] : c.items()) {
      if (is_empty(value)) {
        continue;
      }
      if (key == "Env" || key == "Cmd" || key == "Entrypoint" || key == "Shell" || key == "OnBuild") {
        if (!is_string_list(value)) throw bad("config." + key, "a list of strings");
      } else if (key == "User" || key == "WorkingDir" || key == "StopSignal") {
        if (!value.is_string()) throw bad("config." + key, "a string");
      } else if (key == "Labels") {
        if (!value.is_object() ||
            !std::all_of(value.begin(), value.end(), [](const image::Json& e) { return e.is_string(); })) {
          throw bad("config.Labels", "an object of strings");
        }
      } else if (key == "ExposedPorts" || key == "Volumes" || key == "Healthcheck") {
        if (!value.is_object()) throw bad("config." + key, "an object");
      } else if (key == "ArgsEscaped") {
        if (!value.is_boolean()) throw bad("config.ArgsEscaped", "a boolean");
      } else {
        continue; // Hostname, AttachStdin, ...: not part of an image, not inherited
      }
      section[key] = value;
    }
  }
  out["config"] = section;
  image::Json history = image::Json::array();
  if (config.contains("history") && !config["history"].is_null()) {
    if (!config["history"].is_array() ||
        !std::all_of(config["history"].begin(), config["history"].end(), [](const image::Json& h) { return h.is_object(); })) {
      throw bad("history", "a list of objects");
    }
    for (const auto& h : config["history"]) {
      for (const char* key : {"created", "created_by", "author", "comment"}) {
        if (h.contains(key) && !h[key].is_null() && !h[key].is_string()) {
          throw bad(std::string("history entry's ") + key, "a string");
        }
      }
      if (h.contains("empty_layer") && !h["empty_layer"].is_null() && !h["empty_layer"].is_boolean()) {
        throw bad("history entry's empty_layer", "a boolean");
      }
    }
    history = config["history"];
  }
  out["history"] = history;
  return out;
}

// Opens the image a FROM names; every failure is one line naming it.
image::Json load_base_image(BaseImage& base, const std::string& name, const image::Platform& platform, bool platform_given)
{
  const auto ref = image::parse_image_ref(name);
  if (!ref) {
    throw util::Error("'" + util::printable(name) +
                      "' is not an image: reproimg build reads oci:DIR[:TAG], oci-archive:FILE[:TAG], "
                      "docker-archive:FILE[:NAME:TAG] and dir:DIR (skopeo's directory transport), or a path to one, "
                      "and pulls from a registry what is named docker://[REGISTRY/]REPOSITORY[:TAG|@DIGEST] "
                      "(FROM docker://" + util::printable(name) + ", if that is the image meant)");
  }
  try {
    base.name = name;
    base.store = image::ImageStore::open(*ref);
    base.image = image::load_image(*base.store, *ref, platform);
    base.config = inherited_config(base.image.config, "base image " + name);
  } catch (const util::Error& e) {
    e.rethrow_as({}, "cannot read the base image '" + util::printable(name) + "': " + e.what()); // an IoError stays one
  }
  const image::Json& c = base.config;
  const std::string os = c.value("os", std::string());
  const std::string arch = c.value("architecture", std::string());
  if (platform_given && (os != platform.os || arch != platform.architecture ||
                         (!platform.variant.empty() && c.value("variant", std::string()) != platform.variant))) {
    std::string want = platform.os + "/" + platform.architecture;
    if (!platform.variant.empty()) want += "/" + platform.variant;
    throw util::Error("the base image '" + util::printable(name) + "' is " + os + "/" + arch +
                      ", not the " + want + " FROM --platform asks for");
  }
  if (os.empty() || arch.empty()) {
    throw util::Error("the base image '" + util::printable(name) + "' names no os or architecture in its config");
  }
  return c;
}

class Builder {
public:
  Builder(const BuildContext& context, const BuildOptions& options, const Dockerfile& dockerfile,
          normalize::Report& report, image::ImageWriter& writer, const BaseImage* base)
      : m_context(context), m_options(options), m_dockerfile(dockerfile), m_report(report), m_writer(writer),
        m_base(base)
  {
  }

  struct Image {
    image::Json config_section;
    image::Json history = image::Json::array();
    std::vector<BuildLayer> layer_info;
    std::string author;
  };

  Image run(const BuildPlan& plan)
  {
    Image img = start(plan);
    const std::string created = image::rfc3339(m_options.layer.policy.epoch);
    bool cmd_set = false;
    for (const auto& step : plan.steps) {
      try {
        std::optional<normalize::LayerResult> layer;
        std::string created_by = step.history;
        if (step.kind == StepKind::copy) {
          created_by = copy_step(step, img, layer);
        } else if (step.kind == StepKind::workdir) {
          layer = workdir_step(step, img);
        } else {
          config_step(step, img, cmd_set);
        }
        image::Json h = {{"created", created}, {"created_by", k_nop + created_by}};
        if (!layer) {
          h["empty_layer"] = true;
        } else {
          img.layer_info.back().created_by = h["created_by"].get<std::string>();
        }
        img.history.push_back(h);
      } catch (const util::Error& e) {
        e.rethrow_as(util::Location::of_line(m_dockerfile.name, step.line), step.keyword + ": " + e.what());
      }
    }
    if (m_writer.layers().empty()) {
      // OCI image-spec 1.0 wants at least one layer (oci-image-tool refuses none): an image of
      // config only gets the empty layer, as `docker import` of an empty tar makes.
      write_layer(Owner{0, 0}, [](LayerEmitter&) {}, img);
      const std::string created_by = std::string(k_nop) + "FROM scratch";
      img.layer_info.back().created_by = created_by;
      img.history.insert(img.history.begin(), image::Json{{"created", created}, {"created_by", created_by},
                                                          {"comment", "empty layer: an image has at least one"}});
    }
    return img;
  }

private:
  // What FROM gives: the base image's layers, config and history, or what BuildKit starts a FROM
  // scratch stage with.
  Image start(const BuildPlan& plan)
  {
    Image img;
    if (!m_base) {
      img.config_section["Env"] = image::Json::array({std::string("PATH=") + k_default_path});
      img.config_section["WorkingDir"] = "/";
      return img;
    }
    try {
      add_base_layers(img);
    } catch (const util::Error& e) {
      e.rethrow_as(util::Location::of_line(m_dockerfile.name, plan.from_line),
                   "FROM: cannot read the base image '" + util::printable(m_base->name) + "': " + e.what());
    }
    img.config_section = m_base->config["config"];
    img.config_section.erase("OnBuild"); // the triggers ran right after FROM
    img.history = m_base->config["history"];
    img.author = m_base->config.value("author", std::string());
    return img;
  }

  // COPY/ADD: one layer; returns the history's created_by as BuildKit writes it.
  std::string copy_step(const BuildStep& step, Image& img, std::optional<normalize::LayerResult>& layer)
  {
    const auto matches = CopyLayer::sources(step, m_context);
    std::string kind;
    layer = write_layer(step.chown.value_or(Owner{0, 0}),
                        [&](LayerEmitter& emitter) {
                          CopyLayer copy(step, m_context, m_tree, emitter);
                          kind = copy.emit(matches);
                        },
                        img);
    std::string created_by = step.keyword;
    if (step.chown) {
      created_by += " --chown=" + std::to_string(step.chown->first) + ":" + std::to_string(step.chown->second);
    }
    if (step.chmod) {
      char mode[16];
      std::snprintf(mode, sizeof mode, "%04o", *step.chmod);
      created_by += std::string(" --chmod=") + mode;
    }
    return created_by + " " + kind + ":" + layer->diff_id.substr(7) + " in " + step.value +
           (step.dest_is_dir && step.value != "/" ? "/" : "");
  }

  // WORKDIR: a layer only when the directory is not there yet.
  std::optional<normalize::LayerResult> workdir_step(const BuildStep& step, Image& img)
  {
    img.config_section["WorkingDir"] = step.value;
    const std::string dir = m_tree.resolve(image_relative(step.value), true);
    if (m_tree.is_dir(dir)) {
      return std::nullopt;
    }
    const Owner owner = user_owner(img.config_section.value("User", std::string()));
    return write_layer(owner, [&](LayerEmitter& emitter) { emitter.ensure_dir(dir, std::nullopt); }, img);
  }

  // The instructions that change the config only.
  static void config_step(const BuildStep& step, Image& img, bool& cmd_set)
  {
    image::Json& cfg = img.config_section;
    switch (step.kind) {
    case StepKind::arg:
    case StepKind::copy:
    case StepKind::workdir:
      break;
    case StepKind::env:
      for (const auto& [k, v] : step.pairs) {
        image::Json& env = cfg["Env"];
        const std::string prefix = k + "=";
        auto it = std::find_if(env.begin(), env.end(),
                               [&](const image::Json& e) { return e.get<std::string>().rfind(prefix, 0) == 0; });
        if (it != env.end()) {
          *it = prefix + v;
        } else {
          env.push_back(prefix + v);
        }
      }
      break;
    case StepKind::label:
      for (const auto& [k, v] : step.pairs) {
        cfg["Labels"][k] = v;
      }
      break;
    case StepKind::cmd:
      cfg["Cmd"] = step.words;
      cmd_set = true;
      break;
    case StepKind::entrypoint:
      cfg["Entrypoint"] = step.words;
      if (!cmd_set) {
        cfg.erase("Cmd"); // as Docker: an ENTRYPOINT drops a CMD set before this stage
      }
      break;
    case StepKind::user: cfg["User"] = step.value; break;
    case StepKind::expose:
      for (const auto& p : step.words) {
        cfg["ExposedPorts"][p] = image::Json::object();
      }
      break;
    case StepKind::volume:
      for (const auto& p : step.words) {
        cfg["Volumes"][p] = image::Json::object();
      }
      break;
    case StepKind::stopsignal: cfg["StopSignal"] = step.value; break;
    case StepKind::onbuild: image::apply_change(cfg, "ONBUILD " + step.value); break;
    case StepKind::healthcheck: cfg["Healthcheck"] = step.healthcheck; break;
    case StepKind::shell: cfg["Shell"] = step.words; break;
    case StepKind::maintainer: img.author = step.value; break;
    }
  }

  // The base image's layers, kept as they are (copied, verified), and its file tree.
  void add_base_layers(Image& img)
  {
    const auto& image = m_base->image;
    for (const auto& w : m_base->store->warnings()) m_report.warn(w);
    // The history entries that made a layer, in order (what each base layer's created_by is).
    std::vector<std::string> made_by;
    for (const auto& h : m_base->config["history"]) {
      if (!(h.contains("empty_layer") && h["empty_layer"].is_boolean() && h["empty_layer"].get<bool>())) {
        made_by.push_back(h.contains("created_by") && h["created_by"].is_string() ? h["created_by"].get<std::string>()
                                                                                   : std::string());
      }
    }
    for (size_t i = 0; i < image.layers.size(); ++i) {
      BaseLayerReader reader(m_report);
      const normalize::LayerResult& r =
          m_writer.add_existing_layer(*m_base->store, image.layers[i], image.diff_ids[i], &reader);
      reader.apply(m_tree);
      img.layer_info.push_back(
          {r.diff_id, r.blob_digest, r.blob_size, made_by.size() == image.layers.size() ? made_by[i] : std::string()});
    }
  }

  // One layer: fill() puts the entries into an emitter whose new directories belong to owner.
  template <typename Fill>
  normalize::LayerResult write_layer(Owner owner, Fill fill, Image& img)
  {
    std::vector<readers::Entry> written;
    const std::string name = "layer " + std::to_string(m_writer.layers().size() + 1);
    const normalize::LayerResult r = m_writer.add_layer(
        name,
        [&](EntryVisitor& visitor) {
          LayerEmitter emitter(visitor, m_tree, m_options.layer.policy.epoch, owner);
          fill(emitter);
        },
        m_options.layer, m_report, &written);
    img.layer_info.push_back({r.diff_id, r.blob_digest, r.blob_size, ""});
    TreeLayer layer;
    for (const auto& e : written) {
      layer.emplace_back(e.path, Node::of(e));
    }
    m_tree.apply(std::move(layer));
    return r;
  }

  const BuildContext& m_context;
  const BuildOptions& m_options;
  const Dockerfile& m_dockerfile;
  normalize::Report& m_report;
  image::ImageWriter& m_writer;
  const BaseImage* m_base;
  ImageTree m_tree;
};

std::string read_stdin()
{
  std::string out;
  char buf[65536];
  for (;;) {
    const size_t n = util::read_full(0, buf, sizeof buf, "<stdin>");
    if (n == 0) {
      break;
    }
    out.append(buf, n);
  }
  return out;
}

} // namespace

BuildResult build_image(const std::string& context_dir, const BuildOptions& options, const std::string& out,
                        normalize::Report& report)
{
  struct stat st {};
  if (::stat(context_dir.c_str(), &st) != 0 && errno == ENOENT) {
    throw util::Error(util::Location{context_dir, std::nullopt, std::nullopt}, "the build context does not exist");
  }
  if (::stat(context_dir.c_str(), &st) != 0) {
    util::throw_errno("cannot read the build context", context_dir);
  }
  if (!S_ISDIR(st.st_mode)) {
    throw util::Error(util::Location{context_dir, std::nullopt, std::nullopt},
                      "the build context must be a directory");
  }
  const std::string dockerfile_path = options.dockerfile.empty() ? context_dir + "/Dockerfile" : options.dockerfile;
  const bool from_stdin = dockerfile_path == "-";
  const std::string dockerfile_name = from_stdin ? "<stdin>" : dockerfile_path;
  if (!from_stdin && options.dockerfile.empty() && !util::is_regular_file(dockerfile_path)) {
    throw util::Error(util::Location{dockerfile_path, std::nullopt, std::nullopt},
                      "no Dockerfile here (name one with -f FILE)");
  }
  if (!from_stdin && !util::is_regular_file(dockerfile_path)) {
    struct stat df {};
    const bool missing = ::stat(dockerfile_path.c_str(), &df) != 0 && errno == ENOENT;
    throw util::Error("cannot open " + util::printable(dockerfile_path) + " (-f): " +
                      (missing ? "it does not exist" : S_ISDIR(df.st_mode) ? "a directory, not a Dockerfile"
                                                                             : "not a regular file"));
  }
  const Dockerfile dockerfile =
      parse_dockerfile(from_stdin ? read_stdin() : util::read_file(dockerfile_path), dockerfile_name);

  // As BuildKit: FILE.dockerignore beside the Dockerfile wins over the context's .dockerignore.
  DockerIgnore ignore;
  for (const std::string& candidate :
       {from_stdin ? std::string() : dockerfile_path + ".dockerignore", context_dir + "/.dockerignore"}) {
    if (!candidate.empty() && util::is_regular_file(candidate)) {
      ignore = DockerIgnore::parse(util::read_file(candidate), candidate);
      break;
    }
  }

  std::optional<BaseImage> base;
  PlanOptions plan_options;
  plan_options.build_args = options.build_args;
  plan_options.platform = options.platform;
  plan_options.load_base = [&](const std::string& name, const image::Platform& platform, bool platform_given) {
    base.emplace();
    return load_base_image(*base, name, platform, platform_given);
  };
  const BuildPlan plan = plan_build(dockerfile, plan_options);
  for (const auto& w : plan.warnings) {
    report.warn(w);
  }
  if (plan.base.empty()) {
    base.reset();
  }

  image::ImageTarget target;
  target.format = options.format;
  target.out = out;
  target.tag = options.tag;
  target.repo_tags = options.repo_tags;
  target.platform = plan.platform;
  target.epoch = options.layer.policy.epoch;
  target.staged_blob = options.staged_blob;
  image::ImageWriter writer(target);

  BuildContext context(context_dir, ignore);
  context.hide(writer.staging_dir());
  context.hide(out); // an empty directory that is there already
  Builder builder(context, options, dockerfile, report, writer, base ? &*base : nullptr);
  Builder::Image img = builder.run(plan);

  // The base image's other fields (os.version, ...) are inherited; the rest is this build's.
  image::Json config = base ? base->config : image::Json::object();
  image::set_config_platform(config, plan.platform);
  config.erase("author");
  if (!img.author.empty()) {
    config["author"] = img.author;
  }
  config["created"] = image::rfc3339(options.layer.policy.epoch);
  config["config"] = img.config_section;
  config["history"] = img.history;
  const image::WrittenImage written = writer.finish(config);

  BuildResult result;
  result.manifest_digest = written.manifest_digest;
  result.config_digest = written.config_digest;
  result.layers = img.layer_info;
  return result;
}

} // namespace reproimg::dockerfile
