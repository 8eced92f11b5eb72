// The one place that assembles and writes images (import, build and normalize use it).
#include "image/image_writer.hpp"

#include "digest/sha256.hpp"
#include "image/docker_archive.hpp"
#include "image/media_types.hpp"
#include "readers/raw_stream.hpp"
#include "readers/tar_reader.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"
#include "util/spool.hpp"

#include <algorithm>
#include <optional>
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
  if (m_target.format != ImageFormat::oci) {
    util::check_output_file(out); // said now, not after the layers are written
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

template <typename Write>
const normalize::LayerResult& ImageWriter::add_written_layer(normalize::NormalizeOptions& options, Write write)
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
    layer = write(options, sink);
    sink.finish();
    fd.close(scratch);
  }
  const normalize::LayerResult& r = adopt(scratch, layer, layer_media_type(options.compression), options.compression);
  if (m_target.staged_blob) {
    m_target.staged_blob(m_layout->dir() + "/blobs/sha256/" + r.blob_digest.substr(7), r.blob_digest, r.blob_size);
  }
  return r;
}

const normalize::LayerResult& ImageWriter::adopt(const std::string& scratch, const normalize::LayerResult& layer,
                                                 const std::string& media_type, normalize::Compression compression)
{
  const std::string target = m_layout->dir() + "/blobs/sha256/" + layer.blob_digest.substr(7);
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) {
    ::unlink(scratch.c_str()); // the same layer twice: one blob
    Descriptor d;
    d.media_type = media_type;
    d.digest = layer.blob_digest;
    d.size = layer.blob_size;
    m_layer_descriptors.push_back(d);
  } else {
    m_layer_descriptors.push_back(m_layout->adopt_blob(scratch, layer.blob_digest, layer.blob_size, media_type));
  }
  m_layer_compression.push_back(compression);
  m_layers.push_back(layer);
  return m_layers.back();
}

const normalize::LayerResult& ImageWriter::add_layer(const readers::LayerSource& source,
                                                     normalize::NormalizeOptions options, normalize::Report& report)
{
  return add_written_layer(options, [&](const normalize::NormalizeOptions& o, util::ByteSink& sink) {
    return normalize::normalize_layer(source, o, &sink, report);
  });
}

const normalize::LayerResult& ImageWriter::add_layer(const std::string& name, const normalize::EntryProducer& produce,
                                                     normalize::NormalizeOptions options, normalize::Report& report,
                                                     std::vector<readers::Entry>* written)
{
  return add_written_layer(options, [&](const normalize::NormalizeOptions& o, util::ByteSink& sink) {
    return normalize::normalize_entries(name, produce, o, &sink, report, written);
  });
}

namespace {

// The OCI media type a kept layer gets in our (OCI) manifest: its own when it is an OCI layer
// type of the same compression, else the OCI type of its compression (a Docker media type
// names the same bytes).
std::string kept_media_type(const std::string& original, normalize::Compression c)
{
  if (original.rfind("application/vnd.oci.image.layer.", 0) == 0) {
    const bool gz = original.size() >= 5 && original.compare(original.size() - 5, 5, "+gzip") == 0;
    const bool zst = original.size() >= 5 && original.compare(original.size() - 5, 5, "+zstd") == 0;
    if ((c == normalize::Compression::gzip && gz) || (c == normalize::Compression::zstd && zst) ||
        (c == normalize::Compression::none && !gz && !zst)) {
      return original;
    }
  }
  return layer_media_type(c);
}

// Copies the blob's bytes (a file, or a byte range of an archive) to scratch as they are; hash, if
// not null, is given them too. Returns how many there were.
std::uint64_t copy_blob(const readers::LayerSource& src, const std::string& scratch, const std::string& what,
                        digest::Sha256* hash)
{
  std::uint64_t copied = 0;
  util::Fd in = readers::open_layer(src, readers::Growth::wait); // copied as it is: whole and checked first
  util::Fd out(::open(scratch.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out.valid()) {
    util::throw_errno("cannot create", scratch);
  }
  std::vector<char> buf(1u << 18);
  std::uint64_t offset = src.offset;
  std::uint64_t left = src.length.value_or(0);
  for (;;) {
    size_t want = buf.size();
    if (src.length) {
      if (left == 0) break;
      want = static_cast<size_t>(std::min<std::uint64_t>(left, buf.size()));
    }
    size_t n = 0;
    if (src.length) {
      util::pread_exact(in.get(), buf.data(), want, offset, what);
      n = want;
      offset += n;
      left -= n;
    } else {
      n = util::read_full(in.get(), buf.data(), want, what);
      if (n == 0) break;
    }
    if (hash) hash->update(buf.data(), n);
    util::write_all(out.get(), buf.data(), n, scratch);
    copied += n;
  }
  out.close(scratch);
  return copied;
}

// The copy of a blob whose digest and size were checked as it was copied, and whose first bytes
// (LayerRef::stored_compression) were checked against its media type: its result, diff_id the config's.
normalize::LayerResult checked_blob_copy(const LayerRef& layer, const std::string& diff_id, std::uint64_t size,
                                         const std::string& blob_digest, const std::string& what)
{
  if (size != layer.size) {
    throw util::Error(util::Location::of(what), "blob is " + std::to_string(size) + " bytes, its descriptor says " +
                                                    std::to_string(layer.size));
  }
  if (blob_digest != layer.digest) {
    throw util::Error(util::Location::of(what), "content is " + blob_digest + ", its descriptor says " +
                                                    util::printable(layer.digest));
  }
  normalize::LayerResult r;
  r.input_compression = layer.stored_compression;
  r.diff_id = diff_id;
  r.blob_digest = blob_digest;
  r.blob_size = size;
  return r;
}

} // namespace

const normalize::LayerResult& ImageWriter::add_existing_layer(const ImageStore& store, const LayerRef& layer,
                                                              const std::string& diff_id,
                                                              readers::EntryVisitor* entries, LayerCheck check)
{
  if (m_target.format == ImageFormat::docker_archive || entries) {
    check = LayerCheck::contents; // decompressed (or read) whole anyway: checked whole
  }
  const std::string what = store.describe(layer.path);
  const std::string scratch = m_layout->scratch_path("layer" + std::to_string(m_layer_count++));
  const readers::LayerSource source = store.layer_source(layer.path);
  // A push sends the blob at once, committed only once the copy was checked (and the registry
  // checks the digest of what it got): from the source when it is a whole file already there,
  // else from the copy as soon as it is made.
  bool staged = false;
  if (m_target.staged_blob && source.kind == readers::LayerSource::Kind::tar && source.path != "-" &&
      !source.growing && !source.length && source.offset == 0) {
    m_target.staged_blob(source.path, layer.digest, layer.size);
    staged = true;
  }
  std::optional<digest::Sha256> hash;
  if (check == LayerCheck::blob) hash.emplace();
  const std::uint64_t copied = copy_blob(source, scratch, what, hash ? &*hash : nullptr);
  if (!staged && m_target.staged_blob) {
    m_target.staged_blob(scratch, layer.digest, layer.size);
  }

  // The copy is checked (digest, size, diff_id) in the one pass that gives its entries, before it
  // is adopted; libarchive's warnings about it reach the caller through entries.
  normalize::LayerResult r;
  try {
    if (check == LayerCheck::blob) {
      r = checked_blob_copy(layer, diff_id, copied, hash->finish_digest(), what);
    } else {
      readers::LayerSource copy{readers::LayerSource::Kind::tar, scratch};
      copy.label = what;
      copy.expect = readers::BlobExpectation{layer.digest, layer.size, diff_id, "the config's rootfs.diff_ids", {}};
      const readers::StreamDigests d =
          entries ? readers::digest_layer_entries(copy, *entries) : readers::digest_layer(copy);
      r.input_compression = d.compression;
      r.diff_id = d.diff_id;
      r.blob_digest = d.blob_digest;
      r.blob_size = d.blob_size;
      r.tar_size = d.tar_size;
    }
    if (!layer.compression.empty() && layer.compression != r.input_compression) {
      throw util::Error(util::Location::of(what), "media type " + util::printable(layer.media_type) + " says " +
                                                      layer.compression + ", but the blob is " + r.input_compression);
    }
  } catch (...) {
    ::unlink(scratch.c_str());
    throw;
  }
  const auto compression = normalize::parse_compression(r.input_compression);
  if (!compression) {
    ::unlink(scratch.c_str());
    throw util::Error(util::Location::of(what),
                      "a " + r.input_compression + "-compressed layer: an OCI image has no media type for it");
  }
  return adopt(scratch, r, kept_media_type(layer.media_type, *compression), *compression);
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
  const Descriptor manifest_desc = m_layout->add_blob(canonical_json(oci_manifest(config_desc)), media::oci_manifest);
  return place(config_bytes, config_desc, manifest_desc, m_target.platform);
}

Json ImageWriter::oci_manifest(const Descriptor& config) const
{
  Json manifest;
  manifest["schemaVersion"] = 2;
  manifest["mediaType"] = media::oci_manifest;
  manifest["config"] = config.to_json();
  manifest["layers"] = Json::array();
  for (const auto& d : m_layer_descriptors) {
    manifest["layers"].push_back(d.to_json());
  }
  return manifest;
}

WrittenImage ImageWriter::finish_index_copy(const ImageIndex& source)
{
  if (m_target.format == ImageFormat::docker_archive) {
    throw util::Error(util::Location::of(m_target.out), "a docker-archive is written one image at a time, not an index");
  }
  size_t layers = 0;
  for (const Image& image : source.images) {
    layers += image.layers.size();
    add_copied_documents(image);
  }
  if (m_layers.size() != layers) {
    throw util::Error(util::Location::of(m_target.out), "copy: not every layer of the index's images was added");
  }
  const Descriptor top = m_layout->add_blob(source.bytes, source.media_type);
  if (top.digest != source.digest) {
    throw util::Error(util::Location::of(m_target.out), "copy: the index's bytes are not its digest's");
  }
  return place("", Descriptor(), top, std::nullopt);
}

std::pair<Descriptor, Descriptor> ImageWriter::add_copied_documents(const Image& source)
{
  const std::string config_type =
      source.manifest_bytes.empty()
          ? std::string(media::oci_config)
          : string_or(Json::parse(source.manifest_bytes).value("config", Json()), "mediaType", media::oci_config);
  const Descriptor config_desc = m_layout->add_blob(source.config_bytes, config_type);
  if (config_desc.digest != source.config_digest) {
    throw util::Error(util::Location::of(source.ref.path), "copy: the config's bytes are not the image's");
  }
  const Descriptor manifest_desc =
      source.manifest_bytes.empty()
          ? m_layout->add_blob(canonical_json(oci_manifest(config_desc)), media::oci_manifest)
          : m_layout->add_blob(source.manifest_bytes, source.manifest_media_type);
  return {config_desc, manifest_desc};
}

WrittenImage ImageWriter::finish_copy(const Image& source)
{
  if (m_layers.size() != source.layers.size()) {
    throw util::Error(util::Location::of(source.ref.path), "copy: not every layer of the image was added");
  }
  const auto [config_desc, manifest_desc] = add_copied_documents(source);
  Platform platform;
  platform.os = string_or(source.config, "os", "linux");
  platform.architecture = string_or(source.config, "architecture", "amd64");
  platform.variant = string_or(source.config, "variant", "");
  return place(source.config_bytes, config_desc, manifest_desc, platform);
}

WrittenImage ImageWriter::place(const std::string& config_bytes, const Descriptor& config_desc,
                                Descriptor manifest_desc, const std::optional<Platform>& platform)
{
  if (platform) {
    const Platform& p = *platform;
    manifest_desc.platform = {{"architecture", p.architecture}, {"os", p.os}};
    if (!p.variant.empty()) {
      manifest_desc.platform["variant"] = p.variant;
    }
  }
  if (!m_target.tag.empty()) {
    manifest_desc.annotations["org.opencontainers.image.ref.name"] = m_target.tag;
  }
  m_layout->write_index({manifest_desc});

  const std::string& out = m_target.out;
  if (m_target.format == ImageFormat::oci) {
    const util::InterruptDeferral defer; // moved into place whole, or not at all
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
    for (size_t i = 0; i < m_layers.size(); ++i) {
      const auto& l = m_layers[i];
      archive.layers.push_back(
          {m_layout->dir() + "/blobs/sha256/" + l.blob_digest.substr(7), l.diff_id, m_layer_compression[i]});
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
    normalize::normalize_layer({readers::LayerSource::Kind::directory, m_staging->path()}, archive_options, &sink,
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
