// The top of `reproimg diff`: what to compare with what, then the verdict and the hints.
#include "diff/diff.hpp"

#include "diff/image_documents.hpp"
#include "image/image_source.hpp"
#include "image/json.hpp"
#include "normalize/raw_stream.hpp"
#include "util/error.hpp"
#include "util/parallel.hpp"
#include "util/spool.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <sys/stat.h>

namespace reproimg::diff {

namespace {

using image::Json;

struct Side {
  std::string spec;
  std::optional<image::ImageRef> ref;
  std::unique_ptr<image::ImageStore> store;
  std::optional<image::Image> image;
  normalize::LayerSource layer; // when not an image
  util::Fd stdin_copy;          // "-": standard input, copied so it can be read again
};

Side open_side(const std::string& spec, const DiffOptions& options)
{
  Side s;
  s.spec = spec;
  if (spec != "-") {
    s.ref = image::parse_image_ref(spec);
  }
  if (s.ref) {
    s.store = image::ImageStore::open(*s.ref);
    s.image = image::load_image(*s.store, *s.ref, options.platform);
  } else if (spec == "-") {
    s.stdin_copy = util::copy_stdin_to_temp();
    s.layer = {normalize::LayerSource::Kind::tar, "/dev/fd/" + std::to_string(s.stdin_copy.get())};
  } else {
    s.layer = normalize::parse_layer_source(spec);
  }
  return s;
}

// Are two plain files byte-identical? Sets first_difference when not (and both were read).
bool same_file_bytes(const std::string& a, const std::string& b, std::optional<std::uint64_t>& first_difference)
{
  struct stat sa {};
  struct stat sb {};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0 || !S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode)) {
    return false;
  }
  util::Fd fa = util::open_read(a);
  util::Fd fb = util::open_read(b);
  thread_local std::vector<unsigned char> ba(1 << 20);
  thread_local std::vector<unsigned char> bb(1 << 20);
  std::uint64_t pos = 0;
  for (;;) {
    const size_t na = util::read_full(fa.get(), ba.data(), ba.size(), a);
    const size_t nb = util::read_full(fb.get(), bb.data(), bb.size(), b);
    const size_t n = std::min(na, nb);
    if (std::memcmp(ba.data(), bb.data(), n) != 0 || na != nb) {
      size_t i = 0;
      while (i < n && ba[i] == bb[i]) ++i;
      first_difference = pos + i;
      return false;
    }
    if (na == 0) {
      return true;
    }
    pos += na;
  }
}

// The dialect of a tar stream's first header block.
std::string tar_dialect(const unsigned char* h, size_t n)
{
  if (n < 512) return "empty";
  const char* magic = reinterpret_cast<const char*>(h + 257);
  const char type = static_cast<char>(h[156]);
  const bool pax = type == 'x' || type == 'g';
  if (std::memcmp(magic, "ustar  \0", 8) == 0) return type == 'L' || type == 'K' ? "gnu (long names)" : "gnu";
  if (std::memcmp(magic, "ustar\0" "00", 8) == 0) return pax ? "pax" : "ustar";
  if (std::memcmp(magic, "ustar", 5) == 0) return "ustar (other version)";
  return "v7";
}

struct StreamFacts {
  normalize::StreamDigests digests;
  std::string dialect;
  std::vector<unsigned char> head; // the first bytes of the stored blob (gzip header)
};

StreamFacts stream_facts(const normalize::LayerSource& source)
{
  class Head : public util::ByteSink {
  public:
    void write(const void* d, size_t n) override
    {
      const size_t take = std::min(n, sizeof bytes - used);
      std::memcpy(bytes + used, d, take);
      used += take;
    }
    unsigned char bytes[512] = {};
    size_t used = 0;
  } head;
  StreamFacts f;
  util::Fd fd = util::open_read(source.path);
  f.digests = source.length ? normalize::digest_stream_range(fd.get(), source.display_name(), source.offset,
                                                             *source.length, &head)
                            : normalize::digest_stream(fd.get(), source.display_name(), &head);
  f.dialect = tar_dialect(head.bytes, head.used);
  unsigned char raw[10] = {};
  if (source.length) {
    util::pread_exact(fd.get(), raw, std::min<std::uint64_t>(10, *source.length), source.offset, source.display_name());
  } else if (::pread(fd.get(), raw, 10, 0) < 0) {
    util::throw_errno("cannot read", source.display_name());
  }
  f.head.assign(raw, raw + 10);
  return f;
}

void add_gzip_header_attributes(Difference& d, const std::vector<unsigned char>& a, const std::vector<unsigned char>& b)
{
  auto gz = [](const std::vector<unsigned char>& h) { return h.size() >= 10 && h[0] == 0x1f && h[1] == 0x8b; };
  if (!gz(a) || !gz(b)) return;
  auto mtime = [](const std::vector<unsigned char>& h) {
    return static_cast<std::int64_t>(h[4] | (h[5] << 8) | (h[6] << 16) | (static_cast<std::uint32_t>(h[7]) << 24));
  };
  if (mtime(a) != mtime(b)) d.add("gzip.mtime", image::rfc3339(mtime(a)), image::rfc3339(mtime(b)));
  if (a[8] != b[8]) d.add("gzip.xfl (level)", a[8], b[8]);
  if (a[9] != b[9]) d.add("gzip.os", a[9], b[9]);
  if ((a[3] & 8) != (b[3] & 8)) d.add("gzip.name", (a[3] & 8) != 0, (b[3] & 8) != 0);
}

// Same entries but different bytes: the compression or the tar encoding?
void explain_stream_difference(const normalize::LayerSource& sa, const normalize::LayerSource& sb, int layer,
                               std::optional<std::uint64_t> first_byte, std::vector<Difference>& out)
{
  StreamFacts fa;
  StreamFacts fb;
  util::run_both([&] { fa = stream_facts(sa); }, [&] { fb = stream_facts(sb); });
  if (fa.digests.blob_digest == fb.digests.blob_digest) {
    return;
  }
  Difference d;
  d.layer = layer;
  d.normalizable = true;
  if (fa.digests.diff_id == fb.digests.diff_id) {
    d.cause = Cause::compression;
    d.add("compression", fa.digests.compression, fb.digests.compression);
    d.add("blob_size", fa.digests.blob_size, fb.digests.blob_size);
    d.add("blob_digest", fa.digests.blob_digest, fb.digests.blob_digest);
    add_gzip_header_attributes(d, fa.head, fb.head);
  } else {
    d.cause = Cause::tar_encoding;
    if (fa.dialect != fb.dialect) d.add("dialect", fa.dialect, fb.dialect);
    d.add("tar_size", fa.digests.tar_size, fb.digests.tar_size);
    d.add("diff_id", fa.digests.diff_id, fb.digests.diff_id);
    if (first_byte && fa.digests.compression == "none" && fb.digests.compression == "none") {
      d.add("first_difference", *first_byte, *first_byte);
    }
  }
  out.push_back(std::move(d));
}

// --- images -----------------------------------------------------------------------------------

void compare_configs(const Json& a, const Json& b, std::vector<Difference>& out)
{
  auto rec = [&](Cause c, std::string path, Json x, Json y, bool normalizable, const std::string& attr = "value") {
    Difference d;
    d.cause = c;
    d.path = std::move(path);
    d.normalizable = normalizable;
    d.add(attr, std::move(x), std::move(y));
    out.push_back(std::move(d));
  };
  std::set<std::string> keys;
  for (const Json* j : {&a, &b}) {
    if (j->is_object()) {
      for (auto it = j->begin(); it != j->end(); ++it) keys.insert(it.key());
    }
  }
  for (const auto& key : keys) {
    const Json x = member_or_null(a, key);
    const Json y = member_or_null(b, key);
    if (x == y || key == "rootfs") {
      continue;
    }
    if (key == "created") {
      rec(Cause::config_created, "config:/created", x, y, true, "created");
    } else if (key == "history") {
      const size_t n = std::max(x.is_array() ? x.size() : 0, y.is_array() ? y.size() : 0);
      for (size_t i = 0; i < n; ++i) {
        const Json hx = x.is_array() && i < x.size() ? x[i] : Json(nullptr);
        const Json hy = y.is_array() && i < y.size() ? y[i] : Json(nullptr);
        if (hx == hy) continue;
        Difference d;
        d.cause = Cause::config_history;
        d.path = "config:/history/" + std::to_string(i);
        std::set<std::string> fields;
        for (const Json* h : {&hx, &hy}) {
          if (h->is_object()) for (auto it = h->begin(); it != h->end(); ++it) fields.insert(it.key());
        }
        bool only_created = hx.is_object() && hy.is_object();
        for (const auto& f : fields) {
          const Json fx = member_or_null(hx, f);
          const Json fy = member_or_null(hy, f);
          if (fx != fy) {
            d.add(f, fx, fy);
            only_created = only_created && f == "created";
          }
        }
        if (!hx.is_object() || !hy.is_object()) d.add("entry", hx, hy);
        d.normalizable = only_created;
        out.push_back(std::move(d));
      }
    } else if (key == "config" && x.is_object() && y.is_object()) {
      std::set<std::string> fields;
      for (auto it = x.begin(); it != x.end(); ++it) fields.insert(it.key());
      for (auto it = y.begin(); it != y.end(); ++it) fields.insert(it.key());
      for (const auto& f : fields) {
        const Json fx = member_or_null(x, f);
        const Json fy = member_or_null(y, f);
        if (fx != fy) rec(Cause::config_field, "config:/config/" + pointer_escape(f), fx, fy, false);
      }
    } else {
      rec(Cause::config_field, "config:/" + pointer_escape(key), x, y, false);
    }
  }
}

using Layers = std::vector<std::unique_ptr<LayerIndex>>;

Layers read_image_layers(const Side& s)
{
  Layers layers;
  for (size_t i = 0; i < s.image->layers.size(); ++i) {
    layers.push_back(LayerIndex::read(s.store->layer_source(s.image->layers[i].path), static_cast<int>(i)));
  }
  return layers;
}

struct Context {
  const DiffOptions& options;
  DiffResult& result;
  std::vector<std::unique_ptr<LayerIndex>> keep; // indexes records point into
  std::vector<Layers> keep_layers;
};

void diff_layer_pair(Context& ctx, const normalize::LayerSource& sa, const normalize::LayerSource& sb, int layer,
                     std::optional<std::uint64_t> first_byte)
{
  std::unique_ptr<LayerIndex> ia;
  std::unique_ptr<LayerIndex> ib;
  util::run_both([&] { ia = LayerIndex::read(sa, layer); }, [&] { ib = LayerIndex::read(sb, layer); });
  const Tree ta = tree_of_layer(*ia, "A");
  const Tree tb = tree_of_layer(*ib, "B");
  const TreeComparison c = compare_trees(ta, tb, layer, ctx.options.compare, ctx.result.differences);
  const bool both_tars = !ia->is_directory() && !ib->is_directory();
  if (both_tars && c.entry_differences == 0 && !c.order_differs && c.excluded == 0) {
    explain_stream_difference(sa, sb, layer, first_byte, ctx.result.differences);
  } else if (both_tars && ia->compression() != ib->compression()) {
    Difference d;
    d.cause = Cause::compression;
    d.layer = layer;
    d.normalizable = true;
    d.add("compression", ia->compression(), ib->compression());
    ctx.result.differences.push_back(std::move(d));
  }
  ctx.result.notes.push_back("layer " + std::to_string(layer) + ": " + std::to_string(ia->records.size()) + " vs " +
                             std::to_string(ib->records.size()) + " entries, " + std::to_string(c.compared) +
                             " compared");
  ctx.keep.push_back(std::move(ia));
  ctx.keep.push_back(std::move(ib));
}

void diff_images(Context& ctx, const Side& a, const Side& b)
{
  const image::Image& ia = *a.image;
  const image::Image& ib = *b.image;
  if (!ia.manifest_digest.empty() && ia.manifest_digest == ib.manifest_digest) {
    ctx.result.notes.push_back("same manifest digest " + ia.manifest_digest + container_note(ia, ib));
    return;
  }
  compare_image_documents(ia, ib, ctx.result.differences);
  if (ia.config_digest != ib.config_digest) {
    compare_configs(ia.config, ib.config, ctx.result.differences);
  }
  if (ia.layers.size() == ib.layers.size()) {
    for (size_t i = 0; i < ia.layers.size(); ++i) {
      const auto& la = ia.layers[i];
      const auto& lb = ib.layers[i];
      const int n = static_cast<int>(i);
      const bool same_diff_id = i < ia.diff_ids.size() && i < ib.diff_ids.size() && ia.diff_ids[i] == ib.diff_ids[i];
      if (same_diff_id) {
        if (auto d = compare_stored_layers(la, lb, n)) {
          ctx.result.differences.push_back(std::move(*d));
        }
        ctx.result.notes.push_back("layer " + std::to_string(i) + ": same diff_id " + ia.diff_ids[i]);
        continue;
      }
      diff_layer_pair(ctx, a.store->layer_source(la.path), b.store->layer_source(lb.path), n, std::nullopt);
    }
    return;
  }
  Difference split;
  split.cause = Cause::layer_split;
  split.add("layers", ia.layers.size(), ib.layers.size());
  ctx.result.differences.push_back(std::move(split));
  Layers la;
  Layers lb;
  util::run_both([&] { la = read_image_layers(a); }, [&] { lb = read_image_layers(b); });
  const Tree ta = flatten(la, "A");
  const Tree tb = flatten(lb, "B");
  compare_trees(ta, tb, std::nullopt, ctx.options.compare, ctx.result.differences);
  ctx.result.notes.push_back("layers split differently: flattened filesystems compared");
  ctx.keep_layers.push_back(std::move(la));
  ctx.keep_layers.push_back(std::move(lb));
}

void diff_image_with_tree(Context& ctx, const Side& img, const Side& other, bool image_is_a)
{
  Layers layers;
  std::unique_ptr<LayerIndex> index;
  util::run_both([&] { layers = read_image_layers(img); }, [&] { index = LayerIndex::read(other.layer, 0); });
  const Tree flat = flatten(layers, "image");
  Tree t = tree_of_layer(*index, "tree");
  t.ordered = false;
  compare_trees(image_is_a ? flat : t, image_is_a ? t : flat, std::nullopt, ctx.options.compare,
                ctx.result.differences);
  ctx.result.notes.push_back("the image's flattened filesystem compared with " + other.layer.display_name());
  ctx.keep_layers.push_back(std::move(layers));
  ctx.keep.push_back(std::move(index));
}

// --- verdict and hints ------------------------------------------------------------------------

std::string count_text(size_t n, const char* one, const char* many)
{
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return digits + " " + (n == 1 ? one : many);
}

std::string examples(const std::vector<const Difference*>& ds, size_t max = 2)
{
  std::string out;
  for (size_t i = 0; i < ds.size() && i < max; ++i) {
    out += (i ? ", " : "") + (ds[i]->path.empty() ? std::string("(layer-wide)") : ds[i]->path);
  }
  if (ds.size() > max) out += ", ...";
  return out;
}

// Does a record differ only in times (which the epoch and dropping atime/ctime take care of)?
bool only_times(const Difference& d)
{
  return std::all_of(d.attributes.begin(), d.attributes.end(), [](const auto& a) {
    return a.first == "mtime" || a.first == "atime" || a.first == "ctime";
  });
}

void finish(DiffResult& r, const DiffOptions& options)
{
  // Filter.
  std::vector<Difference> kept;
  for (auto& d : r.differences) {
    if (options.ignore.count(d.cause) || (options.semantic && d.normalizable)) continue;
    kept.push_back(std::move(d));
  }
  r.differences = std::move(kept);
  sort_differences(r.differences);

  std::map<Cause, std::vector<const Difference*>> by_cause;
  for (const auto& d : r.differences) by_cause[d.cause].push_back(&d);

  std::set<std::string> normalize_options;
  // normalize clamps every mtime to E: an E at or before the earliest differing time makes them equal.
  std::optional<std::int64_t> mtime_epoch;
  for (const auto& d : r.differences) {
    if (d.earliest_time) mtime_epoch = std::min(mtime_epoch.value_or(*d.earliest_time), *d.earliest_time);
  }
  for (auto& group : by_cause) {
    const Cause cause = group.first;
    const auto& ds = group.second; // (not a structured binding: lambdas below capture it)
    CauseSummary& s = r.summary[cause];
    s.count = ds.size();
    s.normalizable = std::all_of(ds.begin(), ds.end(), [](const Difference* d) { return d->normalizable; });
    // "1 entry carries" / "2 entries carry"
    auto n_entries_do = [&](const char* one, const char* many) {
      return count_text(ds.size(), "entry", "entries") + " " + (ds.size() == 1 ? one : many);
    };
    switch (cause) {
    case Cause::mtime: {
      std::string lo;
      std::string hi;
      for (const Difference* d : ds) {
        for (const auto& [name, v] : d->attributes) {
          if (name != "mtime") continue;
          for (const Json* j : {&v.first, &v.second}) {
            const std::string t = j->get<std::string>();
            if (lo.empty() || t < lo) lo = t;
            if (hi.empty() || t > hi) hi = t;
          }
        }
      }
      const std::string e = std::to_string(mtime_epoch.value_or(0));
      s.hint = n_entries_do("carries", "carry") + " different modification times (" + lo + " .. " + hi +
               ", build times); set SOURCE_DATE_EPOCH in the build, or `reproimg normalize --source-date-epoch " + e +
               "` (or earlier)";
      normalize_options.insert("--source-date-epoch " + e);
      break;
    }
    case Cause::pax_time:
      s.hint = n_entries_do("carries", "carry") + " atime/ctime records (GNU tar --format=posix); `reproimg normalize` drops them, or "
               "pack with --pax-option=delete=atime,delete=ctime";
      break;
    case Cause::owner_name:
      s.hint = n_entries_do("carries", "carry") + " the build host's user/group names; `reproimg normalize` clears them (or tar "
               "--numeric-owner)";
      break;
    case Cause::owner_id:
      s.hint = n_entries_do("is", "are") + " owned by other uids/gids (" + examples(ds) +
               "): real content; fix the build, or map ids with `reproimg normalize --owner-map OLD=NEW`";
      break;
    case Cause::mode:
      s.hint = n_entries_do("has", "have") + " other permission bits (" + examples(ds) + "): fix the umask or chmod of the build";
      break;
    case Cause::xattr:
      s.hint = n_entries_do("has", "have") + " other extended attributes (" + examples(ds) + "); `reproimg normalize` keeps only "
               "security.capability (--xattrs)";
      break;
    case Cause::order:
      s.hint = "entries are stored in another order (directory-listing order); `reproimg normalize` sorts them (or "
               "tar --sort=name)";
      break;
    case Cause::tar_encoding:
      s.hint = "same entries, other tar encoding (dialect, pax records, padding); `reproimg normalize` writes one "
               "canonical encoding";
      break;
    case Cause::compression:
      s.hint = "same uncompressed layer, other compressed bytes (compressor, level, gzip header); `reproimg "
               "normalize --compress gzip|zstd` compresses deterministically (or gzip -n)";
      break;
    case Cause::hardlink:
      s.hint = n_entries_do("is", "are") + " hardlinked differently (" + examples(ds) + "): the install step differs (ln vs cp)";
      break;
    case Cause::type:
      s.hint = n_entries_do("changed", "changed") + " type (" + examples(ds) + "): real content differs";
      break;
    case Cause::link_target:
      s.hint = n_entries_do("is a symlink", "are symlinks") + " pointing elsewhere (" + examples(ds) + "): real content differs";
      break;
    case Cause::content:
      s.hint = count_text(ds.size(), "file differs", "files differ") + " in content (" + examples(ds) +
               "): the build is not deterministic there";
      break;
    case Cause::embedded_timestamp:
      s.hint = count_text(ds.size(), "file embeds", "files embed") + " build times (" + examples(ds) +
               "): set SOURCE_DATE_EPOCH, use gzip -n, ar D, or run strip-nondeterminism in the build";
      break;
    case Cause::volatile_path: {
      // The profile handles its paths; for the others, an mtime is handled by the epoch and
      // anything else needs the path excluded.
      bool all_in_profile = true;
      for (const Difference* d : ds) {
        if (profile_glob_for(d->path)) {
          continue;
        }
        if (!only_times(*d)) {
          all_in_profile = false;
          normalize_options.insert("--exclude '" + d->path + "'");
        } else {
          normalize_options.insert("--source-date-epoch " + std::to_string(mtime_epoch.value_or(0)));
        }
      }
      // Name first the ones whose contents differ: they say more than a directory's mtime.
      std::vector<const Difference*> telling;
      for (const Difference* d : ds) {
        if (!only_times(*d)) telling.push_back(d);
      }
      for (const Difference* d : ds) {
        if (std::find(telling.begin(), telling.end(), d) == telling.end()) telling.push_back(d);
      }
      s.hint = count_text(ds.size(), "log, cache or host-specific file varies", "logs, caches and host-specific files vary") +
               " per build (" + examples(telling) + "); `reproimg normalize --profile debian` removes or empties them" +
               (all_in_profile ? "" : " (and --exclude for the rest)");
      normalize_options.insert("--profile debian");
      break;
    }
    case Cause::added:
      s.hint = count_text(ds.size(), "path is", "paths are") + " only in B (" + examples(ds) + ")";
      break;
    case Cause::removed:
      s.hint = count_text(ds.size(), "path is", "paths are") + " only in A (" + examples(ds) + ")";
      break;
    case Cause::config_created:
      s.hint = "the config's `created` is the build time; `reproimg normalize` (or --source-date-epoch at import/build) "
               "sets it to SOURCE_DATE_EPOCH";
      break;
    case Cause::config_history:
      s.hint = count_text(ds.size(), "history entry differs", "history entries differ") +
               (s.normalizable ? " only in `created`; `reproimg normalize` sets them to SOURCE_DATE_EPOCH"
                               : " in more than `created` (created_by, comment): the build steps differ");
      break;
    case Cause::config_field:
      s.hint = count_text(ds.size(), "config field differs", "config fields differ") + " (" + examples(ds, 3) +
               "): the image settings differ";
      break;
    case Cause::format:
      s.hint = format_hint(ds);
      break;
    case Cause::manifest:
      s.hint = count_text(ds.size(), "manifest field differs", "manifest fields differ") + " (" + examples(ds, 3) + ")";
      break;
    case Cause::layer_split:
      s.hint = "the images split their files into different layers; compared their flattened filesystems";
      break;
    }
  }
  for (auto& d : r.differences) d.hint = r.summary[d.cause].hint;

  if (r.differences.empty()) {
    r.verdict = Verdict::identical;
  } else if (std::all_of(r.differences.begin(), r.differences.end(), [](const Difference& d) { return d.normalizable; })) {
    r.verdict = Verdict::equivalent;
    r.normalize_options.assign(normalize_options.begin(), normalize_options.end());
  } else {
    r.verdict = Verdict::different;
  }
}

} // namespace

DiffResult run_diff(const std::string& spec_a, const std::string& spec_b, const DiffOptions& options)
{
  if (spec_a == "-" && spec_b == "-") {
    throw util::Error("diff: only one side can be standard input");
  }
  DiffResult result;
  result.a = spec_a;
  result.b = spec_b;
  Side a;
  Side b;
  util::run_both([&] { a = open_side(spec_a, options); }, [&] { b = open_side(spec_b, options); });
  Context ctx{options, result, {}, {}};
  if (a.image && b.image) {
    diff_images(ctx, a, b);
  } else if (a.image || b.image) {
    diff_image_with_tree(ctx, a.image ? a : b, a.image ? b : a, a.image.has_value());
  } else {
    std::optional<std::uint64_t> first_byte;
    const bool files = a.layer.kind == normalize::LayerSource::Kind::tar && b.layer.kind == normalize::LayerSource::Kind::tar;
    if (files && same_file_bytes(a.layer.path, b.layer.path, first_byte)) {
      result.notes.push_back("byte-identical files");
    } else {
      diff_layer_pair(ctx, a.layer, b.layer, 0, first_byte);
    }
  }
  finish(result, options);
  return result;
}

} // namespace reproimg::diff
