// reproimg demo: the same tree packed two naive ways differs; normalised, it is identical, and so
// are the images `reproimg import` makes of the two packings.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "image/import.hpp"
#include "readers/raw_stream.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/file.hpp"
#include "util/spool.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <cstdio>
#include <ctime>
#include <sys/stat.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace reproimg::cli {

namespace {

struct DemoFile {
  const char* path;
  char type; // 'd' dir, 'f' file, 'l' symlink, 'h' hardlink
  unsigned mode;
  const char* data; // content, or link target
};

const std::vector<DemoFile>& demo_tree()
{
  static const std::vector<DemoFile> k_tree = {
      {"etc/", 'd', 0755, ""},
      {"etc/os-release", 'f', 0644, "PRETTY_NAME=\"reproimg demo\"\nID=demo\n"},
      {"usr/", 'd', 0755, ""},
      {"usr/bin/", 'd', 0755, ""},
      {"usr/bin/hello", 'f', 0755, "#!/bin/sh\necho hello from a reproducible image\n"},
      {"usr/bin/hi", 'l', 0777, "hello"},
      {"usr/bin/hello-again", 'h', 0755, "usr/bin/hello"},
      {"usr/share/", 'd', 0755, ""},
      {"usr/share/doc/", 'd', 0755, ""},
      {"usr/share/doc/README", 'f', 0644, "Packed twice, normalised once.\n"},
  };
  return k_tree;
}

struct Packing {
  const char* label;
  int format;      // ARCHIVE_FORMAT_*
  int filter;      // ARCHIVE_FILTER_*
  bool reversed;
  std::time_t mtime;
  const char* owner_name;
};

// Packs the demo tree as a naive tar program would, into path.
void pack(const std::string& path, const Packing& p)
{
  archive* a = archive_write_new();
  archive_write_set_format(a, p.format);
  if (p.filter == ARCHIVE_FILTER_GZIP) {
    archive_write_add_filter_gzip(a);
  } else if (p.filter == ARCHIVE_FILTER_ZSTD) {
    archive_write_add_filter_zstd(a);
  }
  if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) {
    const std::string msg = archive_error_string(a);
    archive_write_free(a);
    throw util::Error(util::Location::of(path), "demo: cannot write: " + msg);
  }
  std::vector<DemoFile> files = demo_tree();
  if (p.reversed) {
    // Directory order on another file system: children may come before their parents.
    std::vector<DemoFile> r(files.rbegin(), files.rend());
    // Keep the hardlink after its target, as every tar program does.
    for (size_t i = 0; i < r.size(); ++i) {
      if (r[i].type == 'h') {
        for (size_t k = i + 1; k < r.size(); ++k) {
          if (std::string(r[k].path) == r[i].data) {
            std::swap(r[i], r[k]);
            break;
          }
        }
      }
    }
    files = r;
  }
  for (const auto& f : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, (std::string("./") + f.path).c_str());
    archive_entry_set_perm(e, f.mode);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_uname(e, p.owner_name);
    archive_entry_set_gname(e, p.owner_name);
    archive_entry_set_mtime(e, p.mtime, 0);
    const std::string data = f.data;
    switch (f.type) {
    case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
    case 'l':
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, f.data);
      break;
    case 'h':
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, (std::string("./") + f.data).c_str());
      break;
    default:
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    }
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (f.type == 'f' && archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))) {
      const std::string msg = archive_error_string(a);
      archive_entry_free(e);
      archive_write_free(a);
      throw util::Error(util::Location::of(path), "demo: cannot write: " + msg);
    }
    archive_entry_free(e);
  }
  const int rc = archive_write_close(a);
  archive_write_free(a);
  if (rc != ARCHIVE_OK) {
    throw util::Error(util::Location::of(path), "demo: cannot finish the archive");
  }
}

std::string short_id(const std::string& digest)
{
  return digest.substr(0, 7 + 16) + "...";
}

struct DemoDigests {
  std::string packed_a;
  std::string packed_b;
  std::string canonical_a;
  std::string canonical_b;
  image::ImportResult image_a;
  image::ImportResult image_b;
  bool images_equal() const
  {
    return image_a.manifest_digest == image_b.manifest_digest && image_a.config_digest == image_b.config_digest;
  }
};

// Packs the tree two ways into dir, normalises and imports both packings.
DemoDigests run_demo(const std::string& dir, unsigned threads)
{
  const std::time_t now = std::time(nullptr);
  const Packing a{"A", ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FILTER_GZIP, false, now, "alice"};
  const Packing b{"B", ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_ZSTD, true, now + 3600, "ci-runner"};
  const std::string a_in = dir + "/a.tar.gz";
  const std::string b_in = dir + "/b.tar.zst";
  const std::string a_out = dir + "/a.canonical.tar";
  const std::string b_out = dir + "/b.canonical.tar";
  pack(a_in, a);
  pack(b_in, b);

  auto raw = [](const std::string& path) {
    util::Fd fd = util::open_read(path);
    return readers::digest_stream(fd.get(), path);
  };
  const auto ra = raw(a_in);
  const auto rb = raw(b_in);

  normalize::NormalizeOptions opts; // SOURCE_DATE_EPOCH 0, the default policy
  opts.progress = util::ProgressMode::off;
  opts.threads = threads;
  auto canon = [&](const std::string& in, const std::string& out) {
    util::AtomicFile file(out);
    util::FdSink sink(file.fd(), out);
    normalize::Report report;
    const auto result = normalize::normalize_layer(readers::parse_layer_source(in), opts, &sink, report);
    sink.finish();
    file.commit();
    return result;
  };
  const auto ca = canon(a_in, a_out);
  const auto cb = canon(b_in, b_out);

  // `docker import` of each packing, reproducibly: one oci-archive each.
  const std::string a_image = dir + "/a.oci.tar";
  const std::string b_image = dir + "/b.oci.tar";
  image::ImportOptions import_opts;
  import_opts.layer = opts;
  import_opts.layer.compression = normalize::Compression::gzip;
  import_opts.format = image::ImageFormat::oci_archive;
  import_opts.changes = {"CMD [\"/usr/bin/hello\"]"};
  auto import = [&](const std::string& in, const std::string& out) {
    normalize::Report report;
    return image::import_rootfs(readers::parse_layer_source(in), import_opts, out, report);
  };
  const auto ia = import(a_in, a_image);
  const auto ib = import(b_in, b_image);
  return DemoDigests{ra.diff_id, rb.diff_id, ca.diff_id, cb.diff_id, ia, ib};

}

// "identical ..." in green, "DIFFERENT ..." in red, when colour is on.
std::string verdict(bool good, const std::string& text, bool color)
{
  return color ? std::string(good ? "\033[32m" : "\033[1;31m") + text + "\033[0m" : text;
}

void print_demo(const DemoDigests& d, const std::string& keep, bool color)
{
  std::printf("reproimg demo: one tree of %zu entries, packed two naive ways\n", demo_tree().size());
  std::printf("  A: GNU tar format, gzip, listing order,  mtime = now,      owner names alice\n");
  std::printf("  B: pax format,     zstd, reversed order, mtime = now + 1h, owner names ci-runner\n\n");
  std::printf("diff_id as packed (sha256 of the uncompressed tar):\n");
  std::printf("  A  %s\n  B  %s\n  -> %s\n\n", d.packed_a.c_str(), d.packed_b.c_str(),
              d.packed_a == d.packed_b ? verdict(false, "identical (unexpected!)", color).c_str()
                                       : "different: the builds leaked time, order, names, dialect");
  std::printf("after `reproimg normalize` (SOURCE_DATE_EPOCH=0, default policy):\n");
  std::printf("  A  %s\n  B  %s\n  -> %s\n", d.canonical_a.c_str(), d.canonical_b.c_str(),
              verdict(d.canonical_a == d.canonical_b,
                      d.canonical_a == d.canonical_b ? "identical: one canonical layer, byte for byte" : "DIFFERENT (a bug)",
                      color).c_str());
  std::printf("\nafter `reproimg import --format oci-archive` (the reproducible `docker import`):\n");
  std::printf("  A  manifest %s  image ID %s\n", short_id(d.image_a.manifest_digest).c_str(),
              short_id(d.image_a.config_digest).c_str());
  std::printf("  B  manifest %s  image ID %s\n", short_id(d.image_b.manifest_digest).c_str(),
              short_id(d.image_b.config_digest).c_str());
  std::printf("  -> %s\n", verdict(d.images_equal(),
                                   d.images_equal() ? "identical: one image, whichever way the rootfs was packed"
                                                    : "DIFFERENT (a bug)",
                                   color).c_str());
  if (!keep.empty()) {
    std::printf("\nfiles kept in %s (canonical layer %s)\n", keep.c_str(), short_id(d.canonical_a).c_str());
  }
}

} // namespace

int cmd_demo(int argc, char** argv)
{
  cxxopts::Options options("reproimg demo",
                           "Pack a small example tree two naive ways, show their diff_ids differ, normalise both,\n"
                           "and show the canonical diff_ids are equal; then import both packings as images (the\n"
                           "reproducible `docker import`) and show their manifest digests and image IDs are equal.\n"
                           "Exit 0 when they are.");
  options.add_options()
    ("keep", "keep the tar files and the two oci-archives in DIR (new or empty) instead of a temporary directory",
     cxxopts::value<std::string>(), "DIR");
  add_threads_option(options);
  add_output_options(options);
  const auto r = parse_arguments(options, argc, argv);
  if (r.count("help")) {
    return print_help(options, "  reproimg demo\n  reproimg demo --keep /tmp/demo && ls -l /tmp/demo\n");
  }
  // Written in a temporary directory; with --keep it is staged beside DIR and moved into place at
  // the end, as an OCI layout is: an interrupted demo leaves nothing.
  std::string keep = r.count("keep") ? r["keep"].as<std::string>() : "";
  while (keep.size() > 1 && keep.back() == '/') {
    keep.pop_back();
  }
  if (r.count("keep") && !util::is_new_or_empty_dir(keep)) {
    throw util::Error(util::Location{keep, std::nullopt, std::nullopt},
                      "already exists and is not an empty directory; demo --keep writes to a new or empty directory");
  }
  util::TempDir staging(keep.empty() ? util::temp_directory() + "/reproimg-demo." : keep + ".tmp.");
  const std::string dir = staging.path();
  const Verbosity verbosity = verbosity_from(r);
  const DemoDigests d = run_demo(staging.path(), threads_from(r));
  const bool ok = d.packed_a != d.packed_b && d.canonical_a == d.canonical_b && d.images_equal();
  if (!keep.empty()) {
    ::chmod(dir.c_str(), 0755);
    const util::InterruptDeferral defer;
    ::rmdir(keep.c_str()); // the empty directory that was there, if any
    if (::rename(dir.c_str(), keep.c_str()) != 0) {
      util::throw_errno("cannot move the demo's files into place", keep);
    }
    staging.release();
  }
  if (verbosity != Verbosity::quiet) {
    print_demo(d, keep, color_from(r, 1));
  }
  return util::exit_code(ok ? util::ExitCode::ok : util::ExitCode::differs);
}

} // namespace reproimg::cli
