// Building entry indexes from layers and rootfs directories; reading contents back by reference.
#include "diff/tree_index.hpp"

#include "digest/sha256.hpp"
#include "image/overlay.hpp"
#include "readers/dir_reader.hpp"
#include "normalize/path.hpp"
#include "readers/tar_reader.hpp"
#include "util/error.hpp"
#include "util/spool.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unordered_map>

namespace reproimg::diff {

namespace {

constexpr std::uint64_t k_max_sparse_fill = 1ull << 30;
constexpr size_t k_chunk = 1 << 20;

std::string record_path(const std::string& raw)
{
  const auto c = normalize::canonical_path(raw);
  if (c.status == normalize::PathStatus::ok) {
    return c.path;
  }
  return raw; // an unsafe or odd path is compared as stored
}

class IndexVisitor : public readers::EntryVisitor {
public:
  IndexVisitor(LayerIndex& index, int number) : m_index(index), m_number(number) {}

  void on_entry(readers::SourceEntry& e, readers::EntryData& data) override
  {
    const std::uint64_t ordinal = m_ordinal++;
    std::optional<FileRecord> made = record_of_entry(e, m_number);
    if (!made) {
      return;
    }
    FileRecord& r = *made;
    r.content.layer = &m_index;
    r.content.ordinal = ordinal;
    if (r.type == readers::EntryType::regular && r.size > 0) {
      if (const auto off = data.source_offset()) {
        r.content.kind = ContentHandle::Kind::range;
        r.content.offset = *off;
      } else if (const auto disk = data.disk_path()) {
        r.content.kind = ContentHandle::Kind::disk;
        r.content.disk_path = *disk;
      } else {
        digest::HashingSink hash;
        data.read(hash, k_max_sparse_fill);
        r.content.kind = ContentHandle::Kind::hashed;
        r.content.sha256 = hash.digest();
      }
    }
    const auto [it, inserted] = m_slot.emplace(r.path, m_index.records.size());
    if (inserted) {
      m_index.records.push_back(std::move(r));
    } else {
      // Extraction keeps the last one; its position is where it was stored last.
      ++m_index.duplicates;
      m_index.records[it->second] = std::move(r);
      m_index.records[it->second].position = ordinal;
      return;
    }
    m_index.records.back().position = ordinal;
  }

  void on_warning(const std::string& message) override { m_index.warnings.push_back(message); }

private:
  LayerIndex& m_index;
  int m_number;
  std::uint64_t m_ordinal = 0;
  std::unordered_map<std::string, size_t> m_slot;
};


} // namespace

std::optional<FileRecord> record_of_entry(const readers::SourceEntry& e, int layer_number)
{
  const auto c = normalize::canonical_path(e.path);
  if (c.status == normalize::PathStatus::root || c.status == normalize::PathStatus::empty) {
    return std::nullopt; // the root entry "./" carries nothing a rootfs keeps
  }
  FileRecord r;
  r.path = c.status == normalize::PathStatus::ok ? c.path : e.path;
  r.type = e.type;
  r.mode = e.mode;
  r.uid = e.uid;
  r.gid = e.gid;
  r.uname = e.uname;
  r.gname = e.gname;
  r.mtime = e.mtime;
  r.mtime_nsec = e.mtime_nsec;
  if (e.has_atime) r.atime = e.atime;
  if (e.has_ctime) r.ctime = e.ctime;
  r.size = e.type == readers::EntryType::regular ? e.size : 0;
  r.link_target = e.type == readers::EntryType::hardlink ? record_path(e.link_target) : e.link_target;
  r.devmajor = e.devmajor;
  r.devminor = e.devminor;
  r.xattrs = e.xattrs;
  std::stable_sort(r.xattrs.begin(), r.xattrs.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  r.sparse = e.sparse;
  r.layer_number = layer_number;
  return r;
}

std::unique_ptr<LayerIndex> LayerIndex::read(const readers::LayerSource& source, int number, util::Progress* shared)
{
  auto index = std::make_unique<LayerIndex>();
  index->m_source = source;
  index->m_name = source.display_name();
  IndexVisitor visitor(*index, number);
  util::Progress quiet(util::ProgressMode::off, "");
  util::Progress& progress = shared ? *shared : quiet;
  if (source.kind == readers::LayerSource::Kind::directory) {
    readers::read_directory(source.path, visitor, progress);
    index->m_compression = "directory";
    return index;
  }
  index->m_fd = source.path == "-" ? util::copy_stdin_to_temp() : readers::open_layer(source);
  const readers::TarInput input = readers::tar_input_of(source, index->m_fd.get());
  readers::TarReadOptions options;
  options.offsets = readers::SourceOffsets::offered;
  if (input.expect) {
    // Every byte is read and hashed to check the blob: keep what that finds, so that a layer
    // whose entries match need not be read again to say how its bytes differ.
    options.tar_tee = &index->m_tar_head;
  }
  const auto result = readers::read_tar(input, visitor, progress, options);
  index->m_compression = result.compression;
  index->m_ending = result.ending;
  if (input.expect) {
    index->m_digests = readers::stream_digests_of(result);
  }
  return index;
}

void LayerIndex::keep_contents(const std::vector<std::uint64_t>& ordinals, std::uint64_t max_bytes) const
{
  std::set<std::uint64_t> wanted;
  for (const auto o : ordinals) {
    if (!m_kept.count(o)) {
      wanted.insert(o);
    }
  }
  if (wanted.empty() || is_directory()) {
    return;
  }
  class Capture : public readers::EntryVisitor {
  public:
    Capture(const std::set<std::uint64_t>& w, std::map<std::uint64_t, std::string>& out, std::uint64_t max)
        : m_wanted(w), m_out(out), m_max(max) {}
    void on_entry(readers::SourceEntry& e, readers::EntryData& data) override
    {
      const std::uint64_t ordinal = m_ordinal++;
      if (!m_wanted.count(ordinal) || e.type != readers::EntryType::regular) {
        return;
      }
      class Bounded : public util::ByteSink {
      public:
        Bounded(std::string& s, std::uint64_t max) : m_s(s), m_max(max) {}
        void write(const void* d, size_t n) override
        {
          const std::uint64_t room = m_max > m_s.size() ? m_max - m_s.size() : 0;
          m_s.append(static_cast<const char*>(d), static_cast<size_t>(std::min<std::uint64_t>(room, n)));
        }

      private:
        std::string& m_s;
        std::uint64_t m_max;
      };
      std::string bytes;
      Bounded sink(bytes, m_max);
      data.read(sink, k_max_sparse_fill);
      m_out[ordinal] = std::move(bytes);
    }
    // A second read of a stream the index read first: its warnings are in the index already.
    void on_warning(const std::string&) override {}

  private:
    const std::set<std::uint64_t>& m_wanted;
    std::map<std::uint64_t, std::string>& m_out;
    std::uint64_t m_max;
    std::uint64_t m_ordinal = 0;
  } capture(wanted, m_kept, max_bytes);
  util::Progress progress(util::ProgressMode::off, "");
  // The blob was checked when the index was made; contents are read again only for reports.
  readers::TarInput input = readers::tar_input_of(m_source, m_fd.get());
  input.expect.reset();
  if (::lseek(m_fd.get(), 0, SEEK_SET) < 0 && input.seekable) {
    util::throw_errno("cannot rewind", m_name);
  }
  readers::read_tar(input, capture, progress);
}

const std::string* LayerIndex::kept_content(std::uint64_t ordinal) const
{
  const auto it = m_kept.find(ordinal);
  return it == m_kept.end() ? nullptr : &it->second;
}

Tree tree_of_layer(const LayerIndex& layer, const std::string& label)
{
  Tree t;
  t.label = label;
  t.ordered = !layer.is_directory();
  std::vector<const FileRecord*> v;
  v.reserve(layer.records.size());
  for (const auto& r : layer.records) {
    v.push_back(&r);
    t.by_path.emplace(r.path, &r);
  }
  if (layer.duplicates > 0) {
    std::stable_sort(v.begin(), v.end(), [](const FileRecord* a, const FileRecord* b) { return a->position < b->position; });
  }
  t.records = std::move(v);
  return t;
}

namespace {

// How the overlay sees records: a hardlink keeps naming the record with its data; one whose
// data's path went away becomes a copy of that record at its own path (owned by the tree).
class FlattenNodes {
public:
  explicit FlattenNodes(std::vector<std::unique_ptr<FileRecord>>& owned) : m_owned(&owned) {}

  bool is_directory(const FileRecord* r) const { return r->type == readers::EntryType::directory; }
  const std::string* hardlink_target(const FileRecord* r) const
  {
    return r->type == readers::EntryType::hardlink ? &r->link_target : nullptr;
  }
  const FileRecord* linked(const FileRecord* link, const std::string& data_path, const FileRecord*)
  {
    if (link->link_target == data_path) {
      return link;
    }
    auto copy = std::make_unique<FileRecord>(*link);
    copy->link_target = data_path;
    return keep(std::move(copy));
  }
  const FileRecord* detached(const FileRecord* link, const std::string& path, const FileRecord* data)
  {
    auto copy = std::make_unique<FileRecord>(*data);
    copy->path = path;
    copy->position = link->position;
    copy->layer_number = link->layer_number;
    return keep(std::move(copy));
  }

private:
  const FileRecord* keep(std::unique_ptr<FileRecord> r)
  {
    m_owned->push_back(std::move(r));
    return m_owned->back().get();
  }

  std::vector<std::unique_ptr<FileRecord>>* m_owned;
};

} // namespace

Tree flatten(const std::vector<std::unique_ptr<LayerIndex>>& layers, const std::string& label)
{
  Tree t;
  t.label = label;
  t.ordered = false;
  image::Overlay<const FileRecord*, FlattenNodes> overlay{FlattenNodes(t.owned)};
  for (const auto& layer : layers) {
    image::Overlay<const FileRecord*, FlattenNodes>::Layer entries;
    entries.reserve(layer->records.size());
    for (const auto& r : layer->records) {
      entries.emplace_back(r.path, &r);
    }
    overlay.apply(std::move(entries));
  }
  t.by_path = std::move(overlay).take();
  t.records.reserve(t.by_path.size());
  for (const auto& [path, r] : t.by_path) {
    t.records.push_back(r);
  }
  return t;
}

// --- contents ---------------------------------------------------------------------------------

namespace {

// Reads a record's bytes in chunks from where they can be read directly (range or disk).
class DirectReader {
public:
  explicit DirectReader(const FileRecord& r) : m_r(r)
  {
    if (r.content.kind == ContentHandle::Kind::disk) {
      m_owned = util::open_read(r.content.disk_path);
      m_fd = m_owned.get();
    } else {
      m_fd = r.content.layer->fd();
    }
  }
  // Reads the next up to n bytes; returns how many (0 at the end).
  size_t next(unsigned char* buf, size_t n)
  {
    const std::uint64_t left = m_r.size - m_pos;
    const size_t want = static_cast<size_t>(std::min<std::uint64_t>(left, n));
    if (want == 0) {
      return 0;
    }
    if (m_r.content.kind == ContentHandle::Kind::disk) {
      const size_t got = util::read_full(m_fd, buf, want, m_r.content.disk_path);
      if (got != want) {
        throw util::Error(util::Location{m_r.content.disk_path, std::nullopt, static_cast<std::int64_t>(m_pos + got)},
                          "file changed while being compared (shorter than when listed)");
      }
    } else {
      util::pread_exact(m_fd, buf, want, m_r.content.offset + m_pos, m_r.content.layer->name());
    }
    m_pos += want;
    return want;
  }

private:
  const FileRecord& m_r;
  util::Fd m_owned;
  int m_fd = -1;
  std::uint64_t m_pos = 0;
};

bool direct(const FileRecord& r)
{
  return r.content.kind == ContentHandle::Kind::range || r.content.kind == ContentHandle::Kind::disk;
}

} // namespace

const std::string& content_digest(const FileRecord& r)
{
  if (!r.content.sha256.empty() || r.content.kind == ContentHandle::Kind::hashed) {
    return r.content.sha256;
  }
  digest::Sha256 hash;
  if (direct(r)) {
    DirectReader reader(r);
    thread_local std::vector<unsigned char> buf(k_chunk);
    while (const size_t n = reader.next(buf.data(), buf.size())) {
      hash.update(buf.data(), n);
    }
  }
  r.content.sha256 = hash.finish_digest();
  return r.content.sha256;
}

ContentComparison compare_content(const FileRecord& a, const FileRecord& b)
{
  ContentComparison c;
  if (a.size != b.size) {
    c.equal = false;
    return c;
  }
  if (a.size == 0) {
    return c;
  }
  if (direct(a) && direct(b)) {
    // Side by side, no hashing: memcmp of the two byte ranges.
    DirectReader ra(a);
    DirectReader rb(b);
    // Reused: a fresh zeroed megabyte per file would cost more than the comparison.
    thread_local std::vector<unsigned char> ba(k_chunk);
    thread_local std::vector<unsigned char> bb(k_chunk);
    std::uint64_t pos = 0;
    for (;;) {
      const size_t na = ra.next(ba.data(), ba.size());
      const size_t nb = rb.next(bb.data(), bb.size());
      if (na == 0 || na != nb) {
        break;
      }
      if (std::memcmp(ba.data(), bb.data(), na) != 0) {
        size_t i = 0;
        while (ba[i] == bb[i]) {
          ++i;
        }
        c.equal = false;
        c.first_difference = pos + i;
        return c;
      }
      pos += na;
    }
    return c;
  }
  c.equal = content_digest(a) == content_digest(b);
  return c;
}

std::optional<std::string> read_content(const FileRecord& r, std::uint64_t max_bytes)
{
  if (r.type != readers::EntryType::regular || r.size == 0) {
    return std::string();
  }
  if (r.content.kind == ContentHandle::Kind::digest_only) {
    return std::nullopt;
  }
  if (direct(r)) {
    std::string out(static_cast<size_t>(std::min<std::uint64_t>(r.size, max_bytes)), '\0');
    DirectReader reader(r);
    size_t done = 0;
    while (done < out.size()) {
      const size_t n = reader.next(reinterpret_cast<unsigned char*>(out.data()) + done, out.size() - done);
      if (n == 0) {
        break;
      }
      done += n;
    }
    out.resize(done);
    return out;
  }
  const LayerIndex* layer = r.content.layer;
  if (!layer) {
    return std::nullopt;
  }
  if (!layer->kept_content(r.content.ordinal)) {
    layer->keep_contents({r.content.ordinal}, max_bytes);
  }
  const std::string* s = layer->kept_content(r.content.ordinal);
  if (!s) {
    return std::nullopt;
  }
  return s->size() > max_bytes ? s->substr(0, static_cast<size_t>(max_bytes)) : *s;
}

} // namespace reproimg::diff
