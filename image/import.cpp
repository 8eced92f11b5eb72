// Rootfs -> canonical layer -> config -> manifest -> index, written atomically.
#include "image/import.hpp"

#include "image/config_changes.hpp"
#include "image/docker_archive.hpp"
#include "image/media_types.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/spool.hpp"

#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace reproimg::image {

namespace {

const char* layer_media_type(normalize::Compression c)
{
  switch (c) {
  case normalize::Compression::gzip: return media::oci_layer_gzip;
  case normalize::Compression::zstd: return media::oci_layer_zstd;
  case normalize::Compression::none: return media::oci_layer;
  }
  return media::oci_layer;
}

bool is_empty_dir(const std::string& path)
{
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    return false;
  }
  bool empty = true;
  while (dirent* de = ::readdir(d)) {
    const std::string n = de->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

} // namespace

ImportResult import_rootfs(const normalize::LayerSource& source, const ImportOptions& options, const std::string& out,
                           normalize::Report& report)
{
  std::string target = out;
  while (target.size() > 1 && target.back() == '/') {
    target.pop_back();
  }
  struct stat st {};
  const bool exists = ::stat(target.c_str(), &st) == 0;
  if (options.format == ImageFormat::oci && exists && !(S_ISDIR(st.st_mode) && is_empty_dir(target))) {
    throw util::Error(util::Location{target, std::nullopt, std::nullopt},
                      "already exists; an OCI layout is written to a new or empty directory");
  }
  // Config changes are checked before any work is done.
  Json config_section = Json::object();
  for (const auto& change : options.changes) {
    apply_change(config_section, change);
  }

  // The layout is staged beside its final place (same file system: the rename is atomic), or in
  // the temp directory for an archive.
  util::TempDir staging(options.format == ImageFormat::oci ? target + ".tmp." : util::temp_directory() + "/reproimg-import.");
  ::chmod(staging.path().c_str(), 0755);
  OciLayoutBuilder layout(staging.path());

  // The layer. docker load reads uncompressed layers in every version (the digest is then the
  // diff_id): a docker-archive's layer is never compressed.
  const normalize::Compression compression =
      options.format == ImageFormat::docker_archive ? normalize::Compression::none : options.layer.compression;
  const std::string scratch = layout.scratch_path("layer");
  normalize::LayerResult layer;
  {
    util::Fd fd(::open(scratch.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) {
      util::throw_errno("cannot create", scratch);
    }
    util::FdSink sink(fd.get(), scratch);
    normalize::NormalizeOptions layer_options = options.layer;
    layer_options.compute_digests = true;
    layer_options.compression = compression;
    layer = normalize::normalize_layer(source, layer_options, &sink, report);
    sink.finish();
    fd.close(scratch);
  }
  const Descriptor layer_desc =
      layout.adopt_blob(scratch, layer.blob_digest, layer.blob_size, layer_media_type(compression));

  // The config: created is E, the one history entry too.
  const std::string created = rfc3339(options.layer.policy.epoch);
  Json config;
  config["architecture"] = options.platform.architecture;
  config["os"] = options.platform.os;
  if (!options.platform.variant.empty()) {
    config["variant"] = options.platform.variant;
  }
  config["created"] = created;
  config["config"] = config_section;
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", Json::array({layer.diff_id})}};
  Json history = {{"created", created}, {"created_by", "reproimg import"}};
  if (!options.message.empty()) {
    history["comment"] = options.message;
  }
  config["history"] = Json::array({history});
  const std::string config_bytes = canonical_json(config);
  const Descriptor config_desc = layout.add_blob(config_bytes, media::oci_config);

  Json manifest;
  manifest["schemaVersion"] = 2;
  manifest["mediaType"] = media::oci_manifest;
  manifest["config"] = config_desc.to_json();
  manifest["layers"] = Json::array({layer_desc.to_json()});
  Descriptor manifest_desc = layout.add_blob(canonical_json(manifest), media::oci_manifest);
  manifest_desc.platform = {{"architecture", options.platform.architecture}, {"os", options.platform.os}};
  if (!options.platform.variant.empty()) {
    manifest_desc.platform["variant"] = options.platform.variant;
  }
  if (!options.tag.empty()) {
    manifest_desc.annotations["org.opencontainers.image.ref.name"] = options.tag;
  }
  layout.write_index({manifest_desc});

  if (options.format == ImageFormat::oci) {
    if (exists) {
      ::rmdir(target.c_str()); // the empty directory that was there
    }
    if (std::rename(staging.path().c_str(), target.c_str()) != 0) {
      util::throw_errno("cannot move the image into place", target);
    }
    staging.release();
  } else if (options.format == ImageFormat::docker_archive) {
    DockerArchiveImage archive;
    archive.config = config_bytes;
    archive.layers.push_back({layout.dir() + "/blobs/sha256/" + layer.blob_digest.substr(7), layer.diff_id,
                              normalize::Compression::none});
    archive.repo_tags = options.repo_tags;
    archive.epoch = options.layer.policy.epoch;
    write_docker_archive(archive, target);
  } else {
    // An oci-archive is the layout as a tar: the canonical encoding, owner 0:0, mtime E.
    normalize::NormalizeOptions archive_options;
    archive_options.policy.epoch = options.layer.policy.epoch;
    archive_options.policy.mtime = normalize::MtimePolicy::set;
    archive_options.policy.owner = std::make_pair(std::int64_t{0}, std::int64_t{0});
    archive_options.policy.xattrs = normalize::XattrPolicy::none;
    archive_options.progress = util::ProgressMode::off;
    archive_options.compute_digests = false;
    util::AtomicFile file(target);
    util::FdSink sink(file.fd(), target);
    normalize::Report archive_report;
    normalize::normalize_layer({normalize::LayerSource::Kind::directory, staging.path()}, archive_options, &sink,
                               archive_report);
    sink.finish();
    file.commit();
  }

  ImportResult r;
  if (options.format != ImageFormat::docker_archive) {
    r.manifest_digest = manifest_desc.digest;
  }
  r.config_digest = config_desc.digest;
  r.diff_id = layer.diff_id;
  r.layer_digest = layer.blob_digest;
  r.layer_size = layer.blob_size;
  return r;
}

} // namespace reproimg::image
