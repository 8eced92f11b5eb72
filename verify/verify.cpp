// Verifying a rebuild against its lock: each layer read once, only as far as the level and the
// explanation need; the lock is side A of diff's comparer.
#include "verify/verify.hpp"

#include "diff/diff.hpp"
#include "diff/image_documents.hpp"
#include "digest/sha256.hpp"
#include "image/image_normalize.hpp"
#include "image/image_source.hpp"
#include "normalize/path.hpp"
#include "readers/raw_stream.hpp"
#include "util/error.hpp"
#include "verify/layer_pass.hpp"
#include "verify/make_lock.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace reproimg::verify {

namespace {

using diff::Cause;
using diff::Difference;

// A tree of diff records made from locked files (the records owned by the tree).
diff::Tree tree_of(const std::vector<LockedFile>& files, const std::string& label)
{
  diff::Tree t;
  t.label = label;
  t.ordered = false;
  for (const auto& f : files) {
    t.owned.push_back(std::make_unique<diff::FileRecord>(record_of_locked(f)));
    const diff::FileRecord* r = t.owned.back().get();
    t.records.push_back(r);
    t.by_path.emplace(r->path, r);
  }
  return t;
}

std::vector<LockedFile> normalized(const std::vector<LockedFile>& files, const normalize::Policy& policy)
{
  std::vector<LockedFile> out;
  for (const auto& f : files) {
    if (auto n = as_normalized(f, policy)) out.push_back(std::move(*n));
  }
  return out;
}

// The lock's record as an image, for diff's image-level comparisons (the container is taken as
// the rebuild's: the lock does not say one, and a transport is no difference of content).
image::Image image_of_lock(const LockedImage& rec, const image::Image& rebuilt)
{
  image::Image img;
  img.ref = rebuilt.ref;
  img.manifest_media_type = rec.manifest_media_type;
  img.manifest_bytes = rec.manifest.is_null() ? "" : image::canonical_json(rec.manifest);
  img.manifest_digest = rec.manifest_digest;
  img.config_bytes.assign(static_cast<size_t>(std::min<std::uint64_t>(rec.config_size, 1u << 24)), ' ');
  img.config_digest = rec.config_digest;
  img.config = rec.config;
  for (const auto& l : rec.layers) {
    image::LayerRef r;
    r.media_type = l.media_type;
    r.digest = l.digest;
    r.size = l.size;
    r.compression = l.compression;
    r.stored_compression = l.compression;
    img.layers.push_back(r);
    img.diff_ids.push_back(l.diff_id);
  }
  return img;
}

// The rebuild's side, read as far as needed.
struct Rebuilt {
  std::vector<std::string> canonical_ids;
  std::string canonical_config_digest;
  std::optional<std::vector<LockedFile>> files;
  bool same_blobs = false;
};

// "mode (usr/local/bin/run.sh), content (a, b, ...)": the causes of records, in report order.
std::string causes_text(const std::vector<Difference>& ds)
{
  std::map<Cause, std::vector<std::string>> by_cause;
  for (const auto& d : ds) {
    auto& paths = by_cause[d.cause];
    const std::string p = d.path.empty() ? (d.layer ? "layer " + std::to_string(*d.layer) : "") : d.path;
    if (!p.empty() && std::find(paths.begin(), paths.end(), p) == paths.end()) paths.push_back(p);
  }
  std::string out;
  for (const auto& [cause, paths] : by_cause) {
    out += (out.empty() ? "" : ", ") + std::string(diff::cause_name(cause));
    if (paths.empty()) continue;
    out += " (";
    for (size_t i = 0; i < paths.size() && i < 3; ++i) out += (i ? ", " : "") + util::printable(paths[i]);
    out += paths.size() > 3 ? ", ...)" : ")";
  }
  return out;
}

class Verifier {
public:
  Verifier(const Lock& lock, const VerifyOptions& options, VerifyResult& result)
      : m_lock(lock), m_options(options), m_result(result)
  {
  }

  // One locked image (a platform) against the rebuild's image.
  void check_image(const LockedImage& rec, const image::ImageStore& store, const image::Image& img)
  {
    Rebuilt rb = read_rebuilt_image(rec, store, img);
    auto& out = m_result.diff.differences;
    if (rec.manifest_digest != img.manifest_digest || rec.manifest_digest.empty()) {
      const image::Image locked = image_of_lock(rec, img);
      diff::compare_image_documents(locked, img, out);
      if (rec.config_digest != img.config_digest) diff::compare_configs(rec.config, img.config, out);
      compare_layers(locked, img);
    }
    const bool bit = rb.same_blobs && rec.manifest_digest == img.manifest_digest && rec.config_digest == img.config_digest;
    const bool ids_equal = rb.canonical_ids.size() == rec.layers.size() && canonical_ids_equal(rec, rb.canonical_ids);
    const bool canonical = rb.same_blobs || (ids_equal && rb.canonical_config_digest == rec.canonical_config_digest);
    std::vector<Difference> config_strict;
    for (const auto& d : out) {
      if ((d.path.rfind("config:", 0) == 0 || d.cause == Cause::layer_split) && !d.normalizable) config_strict.push_back(d);
    }
    compare_files(rec, rb, config_strict, rb.same_blobs);
    record(bit, canonical);
    m_result.subjects.push_back({"", img.manifest_digest.empty() ? img.config_digest : img.manifest_digest});
  }

  // The one layer tar or rootfs of a layer or rootfs lock.
  void check_layer(const LockedImage& rec, const std::string& spec)
  {
    const readers::LayerSource source = readers::parse_layer_source(spec);
    const bool rootfs = m_lock.kind == InputKind::rootfs;
    if (rootfs != (source.kind == readers::LayerSource::Kind::directory)) {
      throw util::Error(util::Location{source.display_name(), std::nullopt, std::nullopt},
                        std::string("the lock is of a ") + input_kind_name(m_lock.kind) + ", this is not one");
    }
    Indexes indexes;
    const FileList files = rec.files ? FileList::read : FileList::skipped;
    const LayerPass pass = read_layer(source, m_lock.policy, files, 0, m_options.progress, indexes);
    Rebuilt rb;
    rb.canonical_ids = {pass.canonical_diff_id};
    if (rec.files) rb.files = locked_files(indexes);
    const LockedLayer& l = rec.layers.at(0);
    if (!rootfs && pass.blob_digest != l.digest) add_stream_difference(l, pass);
    const bool canonical = pass.canonical_diff_id == l.canonical_diff_id;
    const size_t before = m_result.diff.differences.size();
    compare_files(rec, rb, {}, false);
    // A rootfs has no bytes as stored: its bit level is every recorded attribute equal.
    const bool bit = rootfs ? m_result.diff.differences.size() == before && rec.files.has_value() : pass.blob_digest == l.digest;
    record(bit, canonical);
    m_result.subjects.push_back({"", rootfs ? pass.canonical_diff_id : pass.blob_digest});
  }

private:
  Rebuilt read_rebuilt_image(const LockedImage& rec, const image::ImageStore& store, const image::Image& img)
  {
    Rebuilt rb;
    rb.same_blobs = img.layers.size() == rec.layers.size();
    for (size_t i = 0; rb.same_blobs && i < img.layers.size(); ++i) {
      rb.same_blobs = img.layers[i].digest == rec.layers[i].digest;
    }
    if (rb.same_blobs) {
      // The bytes the lock was made of: read once to check them (digest, size, diff_id), no more.
      for (size_t i = 0; i < img.layers.size(); ++i) {
        readers::digest_layer(image::checked_layer_source(store, img, i));
        rb.canonical_ids.push_back(rec.layers[i].canonical_diff_id);
      }
      rb.canonical_config_digest = rec.canonical_config_digest;
      return rb;
    }
    Indexes indexes;
    const FileList files = rec.files ? FileList::read : FileList::skipped;
    for (size_t i = 0; i < img.layers.size(); ++i) {
      const LayerPass pass = read_layer(image::checked_layer_source(store, img, i), m_lock.policy, files,
                                        static_cast<int>(i), m_options.progress, indexes);
      rb.canonical_ids.push_back(pass.canonical_diff_id);
    }
    rb.canonical_config_digest = digest::sha256_digest(
        image::canonical_json(image::canonical_config(img.config, rb.canonical_ids, m_lock.policy.epoch)));
    if (rec.files) rb.files = locked_files(indexes);
    return rb;
  }

  bool canonical_ids_equal(const LockedImage& rec, const std::vector<std::string>& ids)
  {
    bool equal = true;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] != rec.layers[i].canonical_diff_id) {
        m_result.canonical_differences.push_back("layer " + std::to_string(i) + " canonical diff_id " +
                                                 rec.layers[i].canonical_diff_id + " (lock) vs " + ids[i]);
        m_result.diff.notes.push_back(m_result.canonical_differences.back());
        equal = false;
      }
    }
    return equal;
  }

  // Layers paired by position: how each is stored (compression, format), or the split.
  void compare_layers(const image::Image& locked, const image::Image& img)
  {
    auto& out = m_result.diff.differences;
    if (locked.layers.size() != img.layers.size()) {
      Difference split;
      split.cause = Cause::layer_split;
      split.add("layers", locked.layers.size(), img.layers.size());
      out.push_back(std::move(split));
      return;
    }
    for (size_t i = 0; i < img.layers.size(); ++i) {
      const int n = static_cast<int>(i);
      if (i < img.diff_ids.size() && locked.diff_ids[i] == img.diff_ids[i]) {
        if (auto d = diff::compare_stored_layers(locked.layers[i], img.layers[i], n)) out.push_back(std::move(*d));
      }
      m_result.diff.notes.push_back("layer " + std::to_string(i) + ": blob " + locked.layers[i].digest + " (lock) vs " +
                                    img.layers[i].digest);
    }
  }

  // A lone layer tar whose bytes differ: the compression, or the tar stream itself.
  void add_stream_difference(const LockedLayer& l, const LayerPass& pass)
  {
    Difference d;
    d.layer = 0;
    d.normalizable = true;
    if (l.diff_id == pass.diff_id) {
      d.cause = Cause::compression;
      d.add("compression", l.compression, pass.compression);
      d.add("blob_size", l.size, pass.blob_size);
      d.add("blob_digest", l.digest, pass.blob_digest);
      m_result.diff.differences.push_back(std::move(d));
    } else if (l.canonical_diff_id == pass.canonical_diff_id) {
      d.cause = Cause::tar_encoding;
      d.add("diff_id", l.diff_id, pass.diff_id);
      m_result.diff.differences.push_back(std::move(d));
    }
  }

  // The files, raw (the report) and as the policy leaves them (the files level).
  void compare_files(const LockedImage& rec, const Rebuilt& rb, const std::vector<Difference>& config_strict, bool same_blobs)
  {
    m_strict = config_strict;
    if (!rec.files || same_blobs) {
      m_files_equal = !rec.files ? std::nullopt : std::optional<bool>(true);
      return;
    }
    const diff::Tree a = tree_of(*rec.files, "lock");
    const diff::Tree b = tree_of(*rb.files, "rebuild");
    diff::compare_trees(a, b, std::nullopt, m_options.compare, m_result.diff.differences);
    const diff::Tree na = tree_of(normalized(*rec.files, m_lock.policy), "lock");
    const diff::Tree nb = tree_of(normalized(*rb.files, m_lock.policy), "rebuild");
    std::vector<Difference> strict;
    diff::compare_trees(na, nb, std::nullopt, m_options.compare, strict);
    m_files_equal = strict.empty();
    m_strict.insert(m_strict.end(), strict.begin(), strict.end());
    m_result.diff.notes.push_back("lock: " + std::to_string(rec.files->size()) + " files; rebuild: " +
                                  std::to_string(rb.files->size()));
  }

  void record(bool bit, bool canonical)
  {
    auto merge = [](Outcome& o, bool holds) { o = holds && o != Outcome::differs ? Outcome::holds : Outcome::differs; };
    merge(m_result.bit, bit);
    merge(m_result.canonical, canonical);
    if (m_files_equal) merge(m_result.files, *m_files_equal && m_strict.empty());
    m_result.failing.insert(m_result.failing.end(), m_strict.begin(), m_strict.end());
  }

  const Lock& m_lock;
  const VerifyOptions& m_options;
  VerifyResult& m_result;
  std::vector<Difference> m_strict;
  std::optional<bool> m_files_equal;
};

Outcome outcome_at(const VerifyResult& r, Level level)
{
  switch (level) {
  case Level::bit: return r.bit;
  case Level::canonical: return r.canonical;
  case Level::files: return r.files;
  }
  return Outcome::unchecked;
}

// "canonical match; bit-level differs: compression", or "files mismatch: mode (usr/local/bin/run.sh)".
std::string summary_of(const VerifyResult& r)
{
  const std::string raw = causes_text(r.diff.differences);
  const std::string strict = causes_text(r.failing);
  if (!r.passed) {
    std::string why = r.level == Level::bit || strict.empty() ? raw : strict;
    if (why.empty() && !r.canonical_differences.empty()) {
      why = r.canonical_differences.front() + (r.canonical_differences.size() > 1 ? ", ..." : "");
    }
    return std::string(level_name(r.level)) + " mismatch" + (why.empty() ? "" : ": " + why);
  }
  std::string s = std::string(level_name(r.level)) + " match";
  if (r.level == Level::files && r.canonical == Outcome::differs) {
    s += "; canonical differs" + (strict.empty() ? std::string() : ": " + strict);
  }
  if (r.level != Level::bit && r.bit == Outcome::differs) {
    s += "; bit-level differs" + (raw.empty() ? std::string() : ": " + raw);
  }
  return s;
}

} // namespace

const char* level_name(Level level)
{
  switch (level) {
  case Level::bit: return "bit";
  case Level::canonical: return "canonical";
  case Level::files: return "files";
  }
  return "bit";
}

std::optional<Level> parse_level(const std::string& name)
{
  for (const Level l : {Level::bit, Level::canonical, Level::files}) {
    if (name == level_name(l)) return l;
  }
  return std::nullopt;
}

std::optional<LockedFile> as_normalized(const LockedFile& f, const normalize::Policy& policy)
{
  for (const auto& g : policy.excludes) {
    if (normalize::glob_matches_path_or_parent(g, f.path)) return std::nullopt;
  }
  LockedFile n = f;
  if (n.type == readers::EntryType::regular && n.size > 0) {
    for (const auto& g : policy.truncates) {
      if (normalize::glob_matches_path_or_parent(g, n.path)) {
        n.size = 0;
        n.sha256 = digest::sha256_digest("");
        break;
      }
    }
  }
  n.mtime = policy.mtime == normalize::MtimePolicy::set ? policy.epoch : std::min(n.mtime, policy.epoch);
  n.mtime_nsec = 0;
  if (policy.owner) {
    n.uid = policy.owner->first;
    n.gid = policy.owner->second;
  } else {
    if (const auto it = policy.uid_map.find(n.uid); it != policy.uid_map.end()) n.uid = it->second;
    if (const auto it = policy.gid_map.find(n.gid); it != policy.gid_map.end()) n.gid = it->second;
  }
  if (!policy.keep_names) {
    n.uname.clear();
    n.gname.clear();
  }
  if (policy.xattrs == normalize::XattrPolicy::none) {
    n.xattrs.clear();
  } else if (policy.xattrs == normalize::XattrPolicy::capability) {
    std::erase_if(n.xattrs, [](const auto& x) { return x.first != "security.capability"; });
  }
  return n;
}

VerifyResult verify_against_lock(const std::string& spec, const Lock& lock, const std::string& lock_name,
                                 const VerifyOptions& options)
{
  VerifyResult result;
  result.level = options.level;
  result.diff.a = "lock:" + lock_name;
  result.diff.b = spec;
  if (options.level == Level::files && std::any_of(lock.images.begin(), lock.images.end(),
                                                   [](const LockedImage& i) { return !i.files; })) {
    throw util::Error(util::Location{lock_name, std::nullopt, std::nullopt},
                      "the lock has no file list (made with --no-files): verify at --level bit or canonical");
  }
  readers::refuse_unread_transport(spec);
  Verifier verifier(lock, options, result);
  const auto ref = image::parse_image_ref(spec);
  if (lock.kind == InputKind::image) {
    if (!ref) {
      throw util::Error(util::Location{spec, std::nullopt, std::nullopt}, "the lock is of an image, this is no image");
    }
    const auto store = image::ImageStore::open(*ref);
    const bool index = !image::list_platforms(*store, *ref).empty();
    for (const auto& rec : lock.images) {
      const std::optional<image::Platform> platform =
          index || lock.images.size() > 1 ? std::optional<image::Platform>(image::parse_platform(rec.platform)) : std::nullopt;
      verifier.check_image(rec, *store, image::load_image(*store, *ref, platform));
      result.subjects.back().name = lock.images.size() > 1 ? spec + " (" + rec.platform + ")" : spec;
    }
  } else {
    if (ref) {
      throw util::Error(util::Location{spec, std::nullopt, std::nullopt},
                        std::string("the lock is of a ") + input_kind_name(lock.kind) + ", this is an image");
    }
    verifier.check_layer(lock.images.at(0), spec);
    result.subjects.back().name = spec;
  }
  diff::finish_result(result.diff, {}, false);
  diff::sort_differences(result.failing);
  result.passed = outcome_at(result, options.level) == Outcome::holds;
  result.summary = summary_of(result);
  return result;
}

} // namespace reproimg::verify
