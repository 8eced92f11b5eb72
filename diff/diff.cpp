// The top of `reproimg diff`: what to compare with what, then the verdict and the hints.
#include "diff/diff.hpp"

#include "diff/image_documents.hpp"
#include "image/image_source.hpp"
#include "image/json.hpp"
#include "readers/raw_stream.hpp"
#include "util/error.hpp"
#include "util/parallel.hpp"
#include "util/spool.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <set>
#include <sys/stat.h>
#include <tuple>

namespace reproimg::diff {

namespace {

using image::Json;

struct Side {
  std::string spec;
  std::optional<image::ImageRef> ref;
  std::unique_ptr<image::ImageStore> store;
  std::optional<image::Image> image;
  readers::LayerSource layer; // when not an image
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
    s.layer = {readers::LayerSource::Kind::tar, "/dev/fd/" + std::to_string(s.stdin_copy.get())};
  } else {
    s.layer = readers::parse_layer_source(spec);
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
  readers::StreamDigests digests;
  std::string dialect;
  std::vector<unsigned char> head; // the first bytes of the stored blob (gzip header)
};

// The first bytes of the stored blob (a gzip header's fields).
std::vector<unsigned char> stored_head(const readers::LayerSource& source)
{
  util::Fd fd = readers::open_layer(source, readers::Growth::wait);
  unsigned char raw[10] = {};
  if (source.length) {
    util::pread_exact(fd.get(), raw, std::min<std::uint64_t>(10, *source.length), source.offset, source.display_name());
  } else if (::pread(fd.get(), raw, 10, 0) < 0) {
    util::throw_errno("cannot read", source.display_name());
  }
  return {raw, raw + 10};
}

// What the layer's read found, or (a plain tar, not hashed then) a second read.
StreamFacts stream_facts(const LayerIndex& index)
{
  StreamFacts f;
  if (index.digests()) {
    f.digests = *index.digests();
    f.dialect = tar_dialect(index.tar_head().data(), index.tar_head().size());
  } else {
    FirstBytes head;
    // Its warnings are not passed on here: the layer's index read the same stream and kept them.
    f.digests = readers::digest_layer(index.source(), &head);
    f.dialect = tar_dialect(head.data(), head.size());
  }
  f.head = stored_head(index.source());
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
void explain_stream_difference(const LayerIndex& la, const LayerIndex& lb, int layer,
                               std::optional<std::uint64_t> first_byte, std::vector<Difference>& out)
{
  StreamFacts fa;
  StreamFacts fb;
  util::run_both([&] { fa = stream_facts(la); }, [&] { fb = stream_facts(lb); });
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

using Layers = std::vector<std::unique_ptr<LayerIndex>>;

Layers read_image_layers(const Side& s, util::Progress& progress)
{
  Layers layers;
  for (size_t i = 0; i < s.image->layers.size(); ++i) {
    layers.push_back(
        LayerIndex::read(image::checked_layer_source(*s.store, *s.image, i), static_cast<int>(i), &progress));
  }
  return layers;
}

// Layers read whole but not ended as GNU tar ends them: said, as they are not compared pairwise.
void note_endings(const Layers& layers, const std::string& side, std::vector<std::string>& notes)
{
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i]->ending() != readers::TarEnding::end_blocks) {
      notes.push_back(side + " layer " + std::to_string(i) + ": " + readers::ending_note(layers[i]->ending()));
    }
  }
}

struct Context {
  const DiffOptions& options;
  DiffResult& result;
  util::Progress& progress; // what both sides read, counted together
  std::vector<std::unique_ptr<LayerIndex>> keep; // indexes records point into
  std::vector<Layers> keep_layers;
};

std::string ending_text(readers::TarEnding ending)
{
  const std::string note = readers::ending_note(ending);
  return note.empty() ? "end-of-archive blocks" : note;
}

// One side's tar stream ends without its end blocks (or its last padding): Go-based tools read
// it, GNU tar and the scanners that use it may not. normalize writes the end blocks.
void add_ending_difference(const LayerIndex& a, const LayerIndex& b, int layer, std::vector<Difference>& out)
{
  Difference d;
  d.cause = Cause::tar_encoding;
  d.layer = layer;
  d.normalizable = true;
  d.add("ending", ending_text(a.ending()), ending_text(b.ending()));
  out.push_back(std::move(d));
}

void diff_layer_pair(Context& ctx, const readers::LayerSource& sa, const readers::LayerSource& sb, int layer,
                     std::optional<std::uint64_t> first_byte)
{
  std::unique_ptr<LayerIndex> ia;
  std::unique_ptr<LayerIndex> ib;
  util::run_both([&] { ia = LayerIndex::read(sa, layer, &ctx.progress); },
                 [&] { ib = LayerIndex::read(sb, layer, &ctx.progress); });
  const Tree ta = tree_of_layer(*ia, "A");
  const Tree tb = tree_of_layer(*ib, "B");
  const TreeComparison c = compare_trees(ta, tb, layer, ctx.options.compare, ctx.result.differences);
  const bool both_tars = !ia->is_directory() && !ib->is_directory();
  if (both_tars && ia->ending() != ib->ending()) {
    add_ending_difference(*ia, *ib, layer, ctx.result.differences);
  }
  if (both_tars && c.entry_differences == 0 && !c.order_differs && c.excluded == 0) {
    explain_stream_difference(*ia, *ib, layer, first_byte, ctx.result.differences);
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
  for (const LayerIndex* index : {ia.get(), ib.get()}) {
    for (const auto& w : index->warnings) ctx.result.notes.push_back("warning: " + w);
  }
  ctx.keep.push_back(std::move(ia));
  ctx.keep.push_back(std::move(ib));
}

// Reads every layer blob of both images and checks it (digest, size, diff_id); a side that is the
// very same image as the other is read once.
// libarchive's warnings about the blobs go to notes ("warning: ...", A's before B's).
void check_all_layers(const Side& a, const Side& b, std::vector<std::string>& notes)
{
  auto check = [](const Side& s, std::vector<std::string>& warnings) {
    for (size_t i = 0; i < s.image->layers.size(); ++i) {
      const auto d = readers::digest_layer(image::checked_layer_source(*s.store, *s.image, i));
      for (const auto& w : d.warnings) warnings.push_back("warning: " + w);
    }
  };
  std::vector<std::string> wa;
  std::vector<std::string> wb;
  const bool same_image = a.image->ref.kind == b.image->ref.kind && util::same_file(a.image->ref.path, b.image->ref.path);
  if (same_image) {
    check(a, wa);
  } else {
    util::run_both([&] { check(a, wa); }, [&] { check(b, wb); });
  }
  notes.insert(notes.end(), wa.begin(), wa.end());
  notes.insert(notes.end(), wb.begin(), wb.end());
}

void diff_images(Context& ctx, const Side& a, const Side& b)
{
  const image::Image& ia = *a.image;
  const image::Image& ib = *b.image;
  const bool paired = ia.layers.size() == ib.layers.size();
  ctx.result.scope = paired ? Scope::images : Scope::images_flattened;
  ctx.result.layer_pairs = paired ? ia.layers.size() : 0;
  if (!ia.manifest_digest.empty() && ia.manifest_digest == ib.manifest_digest) {
    // Equal digests say the blobs are meant to be equal, not that they are: each is read and
    // checked (digest, size, diff_id) before the answer.
    check_all_layers(a, b, ctx.result.notes);
    ctx.result.notes.push_back("same manifest digest " + ia.manifest_digest + container_note(ia, ib) +
                               "; every blob checked");
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
        // The config's word is taken only once both blobs are checked against it.
        readers::StreamDigests da;
        readers::StreamDigests db;
        util::run_both([&] { da = readers::digest_layer(image::checked_layer_source(*a.store, ia, i)); },
                       [&] { db = readers::digest_layer(image::checked_layer_source(*b.store, ib, i)); });
        for (const auto* d : {&da, &db}) {
          for (const auto& w : d->warnings) ctx.result.notes.push_back("warning: " + w);
        }
        if (auto d = compare_stored_layers(la, lb, n)) {
          ctx.result.differences.push_back(std::move(*d));
        }
        ctx.result.notes.push_back("layer " + std::to_string(i) + ": same diff_id " + ia.diff_ids[i]);
        continue;
      }
      diff_layer_pair(ctx, image::checked_layer_source(*a.store, ia, i), image::checked_layer_source(*b.store, ib, i), n,
                      std::nullopt);
    }
    return;
  }
  Difference split;
  split.cause = Cause::layer_split;
  split.add("layers", ia.layers.size(), ib.layers.size());
  ctx.result.differences.push_back(std::move(split));
  Layers la;
  Layers lb;
  util::run_both([&] { la = read_image_layers(a, ctx.progress); }, [&] { lb = read_image_layers(b, ctx.progress); });
  note_endings(la, "A", ctx.result.notes);
  note_endings(lb, "B", ctx.result.notes);
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
  util::run_both([&] { layers = read_image_layers(img, ctx.progress); },
                 [&] { index = LayerIndex::read(other.layer, 0, &ctx.progress); });
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
  // Thousands separated by commas, built forward (GCC 12 warns, wrongly, of an overlap in the
  // insert() form once this is inlined into the hints).
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  out += ' ';
  out += n == 1 ? one : many;
  return out;
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

// "a, b, ..." of a sorted set of names.
std::string listing(const std::set<std::string>& names, size_t max = 3)
{
  std::string out;
  size_t i = 0;
  for (const auto& n : names) {
    if (i == max) {
      return out + ", ...";
    }
    out += (i++ ? ", " : "") + n;
  }
  return out;
}

// The options the report names: the fewest that remove every normalizable record.
struct OptionChoice {
  bool epoch = false;
  bool debian_profile = false;
  std::set<std::string> excludes; // paths

  // Fewest options; then fewest --exclude (they name single paths), then no profile (it drops or
  // empties files), then no epoch.
  std::tuple<size_t, size_t, bool, bool> cost() const
  {
    return {excludes.size() + (epoch ? 1 : 0) + (debian_profile ? 1 : 0), excludes.size(), debian_profile, epoch};
  }
};

// With or without the epoch and the profile: the --exclude options the records then still need,
// or none if a record is left that no option removes.
std::optional<OptionChoice> cover_with(bool epoch, bool debian_profile, const std::vector<Difference>& ds)
{
  OptionChoice choice{epoch, debian_profile, {}};
  for (const auto& d : ds) {
    if (!d.normalizable || !d.remedies.any()) {
      continue; // normalize's defaults remove it, or nothing does
    }
    if ((epoch && d.remedies.epoch) || (debian_profile && d.remedies.debian_profile)) {
      continue;
    }
    if (!d.remedies.exclude) {
      return std::nullopt;
    }
    choice.excludes.insert(d.path);
  }
  return choice;
}

OptionChoice smallest_option_set(const std::vector<Difference>& ds)
{
  // Epoch and profile together leave only records that --exclude alone removes: always a cover.
  OptionChoice best = *cover_with(true, true, ds);
  for (const bool epoch : {false, true}) {
    for (const bool profile : {false, true}) {
      const auto c = cover_with(epoch, profile, ds);
      if (c && c->cost() < best.cost()) {
        best = *c;
      }
    }
  }
  return best;
}

// A path as one --exclude GLOB word for a POSIX shell: glob characters escaped, single-quoted.
std::string exclude_option(const std::string& path)
{
  std::string glob;
  for (const char c : util::printable(path)) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') glob += '\\';
    glob += c;
  }
  std::string quoted;
  for (const char c : glob) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return "--exclude '" + quoted + "'";
}

std::vector<std::string> option_words(const OptionChoice& c, std::int64_t epoch)
{
  std::vector<std::string> out;
  if (c.epoch) out.push_back("--source-date-epoch " + std::to_string(epoch));
  if (c.debian_profile) out.push_back("--profile debian");
  for (const auto& p : c.excludes) out.push_back(exclude_option(p));
  return out;
}

std::string mtime_hint(const std::vector<const Difference*>& ds, std::int64_t epoch)
{
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
  return count_text(ds.size(), "entry carries", "entries carry") + " different modification times (" + lo + " .. " +
         hi + ", build times); set SOURCE_DATE_EPOCH in the build, or `reproimg normalize --source-date-epoch " +
         std::to_string(epoch) + "` (or earlier)";
}

// What --profile debian does to the volatile-path records, in the profile's own globs, and which
// ones it leaves (not covered, or only emptied while the difference is the file's presence or type).
std::string volatile_hint(const std::vector<const Difference*>& ds)
{
  std::set<std::string> dropped;
  std::set<std::string> emptied;
  std::vector<const Difference*> uncovered;
  std::vector<const Difference*> kept;
  size_t n_dropped = 0;
  size_t n_emptied = 0;
  for (const Difference* d : ds) {
    const ProfileRule rule = debian_profile_rule(d->path);
    if (d->remedies.debian_profile) {
      (rule.action == ProfileAction::drops ? dropped : emptied).insert(rule.glob);
      ++(rule.action == ProfileAction::drops ? n_dropped : n_emptied);
    } else {
      (rule.action == ProfileAction::none ? uncovered : kept).push_back(d);
    }
  }
  std::string h = count_text(ds.size(), "log, cache or host-specific file varies", "logs, caches and host-specific files vary") +
                  " per build (" + examples(ds) + ")";
  if (n_dropped + n_emptied > 0) {
    h += "; `reproimg normalize --profile debian`";
    if (n_dropped) h += " drops " + count_text(n_dropped, "of them", "of them") + " (" + listing(dropped) + ")";
    if (n_dropped && n_emptied) h += " and";
    if (n_emptied) h += " empties " + count_text(n_emptied, "of them", "of them") + " (" + listing(emptied) + ")";
  }
  if (!uncovered.empty() || !kept.empty()) {
    std::vector<std::string> parts;
    if (!uncovered.empty()) {
      parts.push_back(count_text(uncovered.size(), "path", "paths") + " the debian profile does not cover (" +
                      examples(uncovered) + ")");
    }
    if (!kept.empty()) {
      parts.push_back(count_text(kept.size(), "file", "files") +
                      " the debian profile only empties, on one side only or of another type (" + examples(kept) + ")");
    }
    h += "; " + parts[0] + (parts.size() > 1 ? " and " + parts[1] : "") + ": `reproimg normalize --exclude PATH` leaves " +
         (uncovered.size() + kept.size() == 1 ? "it" : "them") + " out";
  }
  return h;
}

// For causes normalize keeps (mode, owner-id, ...): the records on paths the debian profile drops.
std::string profile_drop_note(const std::vector<const Difference*>& ds)
{
  std::set<std::string> globs;
  size_t n = 0;
  for (const Difference* d : ds) {
    const ProfileRule rule = debian_profile_rule(d->path);
    if (d->remedies.debian_profile && rule.action == ProfileAction::drops) {
      globs.insert(rule.glob);
      ++n;
    }
  }
  if (n == 0) return "";
  return "; `reproimg normalize --profile debian` drops " + count_text(n, "of them", "of them") + " (" + listing(globs) + ")";
}

std::string cause_hint(Cause cause, const std::vector<const Difference*>& ds, bool all_normalizable, std::int64_t epoch)
{
  // "1 entry carries" / "2 entries carry"
  auto n_entries_do = [&](const char* one, const char* many) {
    return count_text(ds.size(), "entry", "entries") + " " + (ds.size() == 1 ? one : many);
  };
  switch (cause) {
  case Cause::mtime: return mtime_hint(ds, epoch);
  case Cause::volatile_path: return volatile_hint(ds);
  case Cause::pax_time:
    return n_entries_do("carries", "carry") + " atime/ctime records (GNU tar --format=posix); `reproimg normalize` drops them, or "
           "pack with --pax-option=delete=atime,delete=ctime";
  case Cause::owner_name:
    return n_entries_do("carries", "carry") + " the build host's user/group names; `reproimg normalize` clears them (or tar "
           "--numeric-owner)";
  case Cause::owner_id:
    return n_entries_do("is", "are") + " owned by other uids/gids (" + examples(ds) +
           "): real content; fix the build, or map ids with `reproimg normalize --owner-map OLD=NEW`" + profile_drop_note(ds);
  case Cause::mode:
    return n_entries_do("has", "have") + " other permission bits (" + examples(ds) + "): fix the umask or chmod of the build" +
           profile_drop_note(ds);
  case Cause::xattr:
    return n_entries_do("has", "have") + " other extended attributes (" + examples(ds) + "); `reproimg normalize` keeps only "
           "security.capability (--xattrs)" + profile_drop_note(ds);
  case Cause::order:
    return "entries are stored in another order (directory-listing order); `reproimg normalize` sorts them (or "
           "tar --sort=name)";
  case Cause::tar_encoding:
    return "same entries, other tar encoding (dialect, pax records, padding); `reproimg normalize` writes one "
           "canonical encoding";
  case Cause::compression:
    return "same uncompressed layer, other compressed bytes (compressor, level, gzip header); `reproimg "
           "normalize --compress gzip|zstd` compresses deterministically (or gzip -n)";
  case Cause::hardlink:
    return n_entries_do("is", "are") + " hardlinked differently (" + examples(ds) + "): the install step differs (ln vs cp)" +
           profile_drop_note(ds);
  case Cause::type: return n_entries_do("changed", "changed") + " type (" + examples(ds) + "): real content differs";
  case Cause::link_target:
    return n_entries_do("is a symlink", "are symlinks") + " pointing elsewhere (" + examples(ds) + "): real content differs" +
           profile_drop_note(ds);
  case Cause::content:
    return count_text(ds.size(), "file differs", "files differ") + " in content (" + examples(ds) +
           "): the build is not deterministic there";
  case Cause::embedded_timestamp:
    return count_text(ds.size(), "file embeds", "files embed") + " build times (" + examples(ds) +
           "): set SOURCE_DATE_EPOCH, use gzip -n, ar D, or run strip-nondeterminism in the build";
  case Cause::added: return count_text(ds.size(), "path is", "paths are") + " only in B (" + examples(ds) + ")";
  case Cause::removed: return count_text(ds.size(), "path is", "paths are") + " only in A (" + examples(ds) + ")";
  case Cause::config_created:
    return "the config's `created` is the build time; `reproimg normalize` (or --source-date-epoch at import/build) "
           "sets it to SOURCE_DATE_EPOCH";
  case Cause::config_history:
    return count_text(ds.size(), "history entry differs", "history entries differ") +
           (all_normalizable ? " only in `created`; `reproimg normalize` sets them to SOURCE_DATE_EPOCH"
                             : " in more than `created` (created_by, comment): the build steps differ");
  case Cause::config_field:
    return count_text(ds.size(), "config field differs", "config fields differ") + " (" + examples(ds, 3) +
           "): the image settings differ";
  case Cause::format:
    return format_hint(ds);
  case Cause::manifest:
    return count_text(ds.size(), "manifest field differs", "manifest fields differ") + " (" + examples(ds, 3) + ")";
  case Cause::layer_split:
    return "the images split their files into different layers; compared their flattened filesystems";
  }
  return "";
}

} // namespace

void finish_result(DiffResult& r, const std::set<Cause>& ignore, bool semantic)
{
  std::vector<Difference> kept;
  for (auto& d : r.differences) {
    if (ignore.count(d.cause) || (semantic && d.normalizable)) continue;
    kept.push_back(std::move(d));
  }
  r.differences = std::move(kept);
  sort_differences(r.differences);

  // normalize clamps every mtime to E: an E at or before the earliest differing time makes them equal.
  std::optional<std::int64_t> earliest;
  for (const auto& d : r.differences) {
    if (d.earliest_time) earliest = std::min(earliest.value_or(*d.earliest_time), *d.earliest_time);
  }
  const std::int64_t epoch = earliest.value_or(0);

  std::map<Cause, std::vector<const Difference*>> by_cause;
  for (const auto& d : r.differences) by_cause[d.cause].push_back(&d);
  for (const auto& [cause, ds] : by_cause) {
    CauseSummary& s = r.summary[cause];
    s.count = ds.size();
    s.normalizable = std::all_of(ds.begin(), ds.end(), [](const Difference* d) { return d->normalizable; });
    s.hint = cause_hint(cause, ds, s.normalizable, epoch);
  }
  for (auto& d : r.differences) d.hint = r.summary[d.cause].hint;

  const bool any_normalizable = std::any_of(r.differences.begin(), r.differences.end(),
                                            [](const Difference& d) { return d.normalizable; });
  if (r.differences.empty()) {
    r.verdict = Verdict::identical;
  } else if (std::all_of(r.differences.begin(), r.differences.end(), [](const Difference& d) { return d.normalizable; })) {
    r.verdict = Verdict::equivalent;
  } else {
    r.verdict = Verdict::different;
  }
  if (any_normalizable) {
    r.normalize_options = option_words(smallest_option_set(r.differences), epoch);
  }
}

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
  for (const Side* s : {&a, &b}) {
    if (s->store) {
      for (const auto& w : s->store->warnings()) result.notes.push_back("warning: " + w);
    }
  }
  util::Progress progress(options.progress, "reading");
  Context ctx{options, result, progress, {}, {}};
  if (a.image && b.image) {
    diff_images(ctx, a, b);
  } else if (a.image || b.image) {
    result.scope = Scope::image_and_tree;
    result.layer_pairs = 0;
    diff_image_with_tree(ctx, a.image ? a : b, a.image ? b : a, a.image.has_value());
  } else {
    std::optional<std::uint64_t> first_byte;
    const bool files = a.layer.kind == readers::LayerSource::Kind::tar && b.layer.kind == readers::LayerSource::Kind::tar;
    if (files && same_file_bytes(a.layer.path, b.layer.path, first_byte)) {
      result.notes.push_back("byte-identical files");
    } else {
      diff_layer_pair(ctx, a.layer, b.layer, 0, first_byte);
    }
  }
  progress.done();
  finish_result(result, options.ignore, options.semantic);
  return result;
}

} // namespace reproimg::diff
