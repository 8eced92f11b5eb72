// The one place that assembles and writes images (import, build and normalize use it).
#include "image/image_writer.hpp"

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

class TempDirHolder : public util::TempDir {
public:
  using util::TempDir::TempDir;
};

ImageFormat parse_image_format(const std::string& name)
{
  if (name == "oci") return ImageFormat::oci;
  if (name == "oci-archive") return ImageFormat::oci_archive;
  if (name == "docker-archive") return ImageFormat::docker_archive;
  throw util::Error("--format must be oci, oci-archive or docker-archive, not '" + util::printable(name) + "'");
}

const char* layer_media_type(normalize::Compression c)
{
  switch (c) {
  case normalize::Compression::gzip: return media::oci_layer_gzip;
  case normalize::Compression::zstd: return media::oci_layer_zstd;
  case normalize::Compression::none: return media::oci_layer;
  }
  return media::oci_layer;
}

ImageWriter::ImageWriter(ImageTarget target) : m_target(std::move(target))
{
  std::string& out = m_target.out;
  while (out.size() > 1 && out.back() == '/') {
    out.pop_back();
  }
  struct stat st {};
  m_out_exists = ::stat(out.c_str(), &st) == 0;
  if (m_target.format == ImageFormat::oci && m_out_exists && !(S_ISDIR(st.st_mode) && util::is_empty_dir(out))) {
    throw util::Error(util::Location{out, std::nullopt, std::nullopt},
                      "already exists; an OCI layout is written to a new or empty directory");
  }
  // Staged beside its final place (same file system: the rename is atomic), or in the temp
  // directory for an archive.
  m_staging = std::make_unique<TempDirHolder>(m_target.format == ImageFormat::oci
                                                  ? out + ".tmp."
                                                  : util::temp_directory() + "/reproimg-image.");
  ::chmod(m_staging->path().c_str(), 0755);
  m_layout = std::make_unique<OciLayoutBuilder>(m_staging->path());
}

ImageWriter::~ImageWriter() = default;

const normalize::LayerResult& ImageWriter::add_layer(const normalize::LayerSource& source,
                                                     normalize::NormalizeOptions options, normalize::Report& report)
{
  // docker load reads uncompressed layers in every version (the digest is then the diff_id).
  if (m_target.format == ImageFormat::docker_archive) {
    options.compression = normalize::Compression::none;
  }
  options.compute_digests = true;
  const std::string scratch = m_layout->scratch_path("layer" + std::to_string(m_layer_count++));
  normalize::LayerResult layer;
  {
    util::Fd fd(::open(scratch.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) {
      util::throw_errno("cannot create", scratch);
    }
    util::FdSink sink(fd.get(), scratch);
    layer = normalize::normalize_layer(source, options, &sink, report);
    sink.finish();
    fd.close(scratch);
  }
  const std::string target = m_layout->dir() + "/blobs/sha256/" + layer.blob_digest.substr(7);
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) {
    ::unlink(scratch.c_str()); // the same layer twice: one blob
    Descriptor d;
    d.media_type = layer_media_type(options.compression);
    d.digest = layer.blob_digest;
    d.size = layer.blob_size;
    m_layer_descriptors.push_back(d);
  } else {
    m_layer_descriptors.push_back(
        m_layout->adopt_blob(scratch, layer.blob_digest, layer.blob_size, layer_media_type(options.compression)));
  }
  m_layers.push_back(layer);
  return m_layers.back();
}

WrittenImage ImageWriter::finish(Json config)
{
  Json diff_ids = Json::array();
  for (const auto& l : m_layers) {
    diff_ids.push_back(l.diff_id);
  }
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  const std::string config_bytes = canonical_json(config);
  const Descriptor config_desc = m_layout->add_blob(config_bytes, media::oci_config);

  Json manifest;
  manifest["schemaVersion"] = 2;
  manifest["mediaType"] = media::oci_manifest;
  manifest["config"] = config_desc.to_json();
  manifest["layers"] = Json::array();
  for (const auto& d : m_layer_descriptors) {
    manifest["layers"].push_back(d.to_json());
  }
  Descriptor manifest_desc = m_layout->add_blob(canonical_json(manifest), media::oci_manifest);
  const Platform& p = m_target.platform;
  manifest_desc.platform = {{"architecture", p.architecture}, {"os", p.os}};
  if (!p.variant.empty()) {
    manifest_desc.platform["variant"] = p.variant;
  }
  if (!m_target.tag.empty()) {
    manifest_desc.annotations["org.opencontainers.image.ref.name"] = m_target.tag;
  }
  m_layout->write_index({manifest_desc});

  const std::string& out = m_target.out;
  if (m_target.format == ImageFormat::oci) {
    if (m_out_exists) {
      ::rmdir(out.c_str()); // the empty directory that was there
    }
    if (std::rename(m_staging->path().c_str(), out.c_str()) != 0) {
      util::throw_errno("cannot move the image into place", out);
    }
    m_staging->release();
  } else if (m_target.format == ImageFormat::docker_archive) {
    DockerArchiveImage archive;
    archive.config = config_bytes;
    for (const auto& l : m_layers) {
      archive.layers.push_back({m_layout->dir() + "/blobs/sha256/" + l.blob_digest.substr(7), l.diff_id,
                                normalize::Compression::none});
    }
    archive.repo_tags = m_target.repo_tags;
    archive.epoch = m_target.epoch;
    write_docker_archive(archive, out);
  } else {
    // An oci-archive is the layout as a tar: the canonical encoding, owner 0:0, mtime E.
    normalize::NormalizeOptions archive_options;
    archive_options.policy.epoch = m_target.epoch;
    archive_options.policy.mtime = normalize::MtimePolicy::set;
    archive_options.policy.owner = std::make_pair(std::int64_t{0}, std::int64_t{0});
    archive_options.policy.xattrs = normalize::XattrPolicy::none;
    archive_options.progress = util::ProgressMode::off;
    archive_options.compute_digests = false;
    util::AtomicFile file(out);
    util::FdSink sink(file.fd(), out);
    normalize::Report archive_report;
    normalize::normalize_layer({normalize::LayerSource::Kind::directory, m_staging->path()}, archive_options, &sink,
                               archive_report);
    sink.finish();
    file.commit();
  }
  WrittenImage w;
  if (m_target.format != ImageFormat::docker_archive) {
    w.manifest_digest = manifest_desc.digest;
  }
  w.config_digest = config_desc.digest;
  w.layers = m_layers;
  return w;
}

} // namespace reproimg::image
