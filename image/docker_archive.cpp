// docker-archive writing: the `docker save` v1.2 layout with uncompressed layers, as a canonical tar.
//
// Which layout. Every loader in use today finds an image through manifest.json and opens whatever
// paths it names: `docker load` since 1.10 (graph-driver and containerd image stores alike),
// `podman load` and skopeo (containers/image), containerd's importer, go-containerregistry. So the
// choice is which paths to name and what to carry beside them:
//  - Docker 25+ `docker save` writes an OCI layout (oci-layout, index.json, blobs/sha256/<hex>) with
//    manifest.json pointing into blobs/. Tools that predate it and look for `<id>/layer.tar` by name
//    cannot read it, and the OCI side of it is what our oci-archive output already is.
//  - Docker 1.10 to 24 (image spec v1.2) writes `<config hex>.json`, per layer `<id>/VERSION`,
//    `<id>/json` and `<id>/layer.tar`, manifest.json, and `repositories` when tagged. All the loaders
//    above read it (Docker 25+ loads it too: loading is manifest.json-driven), and so do tools that
//    still look for layer.tar; the legacy part (repositories -> top <id> -> parent chain) is what
//    loaders older than manifest.json used.
// We write the v1.2 layout: the widest set of readers, and no layer stored twice.
//
// Layers are stored uncompressed, as `docker save`, `podman save` and `skopeo copy` store them: every
// docker load version and every layer.tar reader takes a plain tar, and the layer's sha256 is then its
// diff_id, checkable with sha256sum. A layer given compressed is decompressed on the way.
//
// A layer's legacy <id> is the hex of its ChainID, as containers/image writes it: unique for each
// position in the stack (so parent links cannot loop) and independent of the config; manifest.json
// readers ignore it. Docker's own v1 IDs mix in the config, which adds nothing for a single image.
//
// Determinism: members in byte order of their paths, canonical tar headers, owner 0:0 without names,
// mtime E, modes 0644 and 0755, JSON through canonical_json; RepoTags is null when untagged, as
// `docker save IMAGE-ID` writes it.
#include "image/docker_archive.hpp"

#include "digest/chain_id.hpp"
#include "digest/sha256.hpp"
#include "image/json.hpp"
#include "readers/raw_stream.hpp"
#include "normalize/tar_writer.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/spool.hpp"

#include <algorithm>
#include <regex>
#include <sys/stat.h>

namespace reproimg::image {

namespace {

constexpr size_t k_copy_buffer = 1 << 20;

// One member of the archive: a directory, small bytes, or a layer streamed from its blob.
struct ArchiveMember {
  std::string path;
  readers::EntryType type = readers::EntryType::regular;
  std::string bytes;
  const DockerArchiveLayer* layer = nullptr;
};

readers::Entry entry_for(const ArchiveMember& m, std::uint64_t size, std::int64_t epoch)
{
  readers::Entry e;
  e.path = m.path;
  e.type = m.type;
  e.mode = m.type == readers::EntryType::directory ? 0755 : 0644;
  e.mtime = epoch;
  e.size = size;
  return e;
}

[[noreturn]] void diff_id_mismatch(const DockerArchiveLayer& layer, const std::string& actual)
{
  throw util::Error(util::Location{layer.path, std::nullopt, std::nullopt},
                    "the layer's uncompressed sha256 is " + actual + ", not its diff_id " + layer.diff_id);
}

// An uncompressed blob goes straight into the archive, hashed on the way: a blob that is not the
// layer the config names fails here, before the archive is committed.
void write_plain_layer(const ArchiveMember& m, std::int64_t epoch, normalize::CanonicalTarWriter& tar)
{
  const DockerArchiveLayer& layer = *m.layer;
  util::Fd fd = util::open_read(layer.path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    util::throw_errno("cannot stat", layer.path);
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  tar.begin_entry(entry_for(m, size, epoch));
  digest::Sha256 hash;
  std::vector<unsigned char> buffer(k_copy_buffer);
  std::uint64_t left = size;
  while (left > 0) {
    const size_t want = static_cast<size_t>(std::min<std::uint64_t>(left, buffer.size()));
    const size_t got = util::read_full(fd.get(), buffer.data(), want, layer.path);
    if (got == 0) {
      throw util::Error(util::Location{layer.path, std::nullopt, static_cast<std::int64_t>(size - left)},
                        "the layer blob shrank while it was being written");
    }
    hash.update(buffer.data(), got);
    tar.write_data(buffer.data(), got);
    left -= got;
  }
  tar.end_entry();
  const std::string actual = hash.finish_digest();
  if (actual != layer.diff_id) {
    diff_id_mismatch(layer, actual);
  }
}

// A compressed blob is decompressed into a spool first: the tar header needs the size.
void write_compressed_layer(const ArchiveMember& m, std::int64_t epoch, normalize::CanonicalTarWriter& tar)
{
  const DockerArchiveLayer& layer = *m.layer;
  util::Fd fd = util::open_read(layer.path);
  util::Spool spool;
  util::SpoolSink into(spool);
  const auto digests = readers::digest_stream(fd.get(), layer.path, &into);
  if (digests.diff_id != layer.diff_id) {
    diff_id_mismatch(layer, digests.diff_id);
  }
  tar.begin_entry(entry_for(m, spool.size(), epoch));
  struct TarSink : util::ByteSink {
    explicit TarSink(normalize::CanonicalTarWriter& t) : tar(t) {}
    void write(const void* data, size_t size) override { tar.write_data(data, size); }
    normalize::CanonicalTarWriter& tar;
  } out(tar);
  spool.copy_to(0, spool.size(), out);
  tar.end_entry();
}

Json parse_config(const std::string& bytes)
{
  try {
    Json config = Json::parse(bytes);
    if (config.is_object()) {
      return config;
    }
  } catch (const Json::exception&) {
  }
  throw util::Error("docker-archive: the image config is not a JSON object");
}

std::string hex_of(const std::string& digest)
{
  return digest.substr(digest.find(':') + 1);
}

} // namespace

void write_docker_archive(const DockerArchiveImage& image, const std::string& out)
{
  const Json config = parse_config(image.config);
  std::vector<std::string> diff_ids;
  for (const auto& layer : image.layers) {
    if (!digest::is_sha256_digest(layer.diff_id)) {
      throw util::Error(util::Location{layer.path, std::nullopt, std::nullopt},
                        "invalid diff_id '" + util::printable(layer.diff_id) + "'");
    }
    diff_ids.push_back(layer.diff_id);
  }
  // docker load refuses an archive whose layers are not the config's diff_ids; so do we, earlier.
  const Json* rootfs_ids = nullptr;
  if (config.contains("rootfs") && config["rootfs"].is_object() && config["rootfs"].contains("diff_ids")) {
    rootfs_ids = &config["rootfs"]["diff_ids"];
  }
  if (!rootfs_ids || *rootfs_ids != Json(diff_ids)) {
    throw util::Error("docker-archive: the layers given are not the config's rootfs.diff_ids");
  }

  std::vector<ArchiveMember> members;
  members.push_back({hex_of(digest::sha256_digest(image.config)) + ".json", readers::EntryType::regular,
                     image.config, nullptr});
  const auto chains = digest::chain_ids(diff_ids);
  Json layer_paths = Json::array();
  std::string parent;
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const std::string id = hex_of(chains[i]);
    Json v1 = Json::object();
    if (i + 1 == image.layers.size()) {
      // The top layer's legacy json carries the runnable part of the config (what Docker < 1.10
      // built the image from).
      for (const char* key : {"architecture", "config", "container", "container_config", "created",
                              "docker_version", "os"}) {
        if (config.contains(key)) {
          v1[key] = config[key];
        }
      }
    }
    v1["id"] = id;
    if (!parent.empty()) {
      v1["parent"] = parent;
    }
    members.push_back({id, readers::EntryType::directory, {}, nullptr});
    members.push_back({id + "/VERSION", readers::EntryType::regular, "1.0", nullptr});
    members.push_back({id + "/json", readers::EntryType::regular, canonical_json(v1), nullptr});
    members.push_back({id + "/layer.tar", readers::EntryType::regular, {}, &image.layers[i]});
    layer_paths.push_back(id + "/layer.tar");
    parent = id;
  }

  Json item;
  item["Config"] = members.front().path;
  item["Layers"] = layer_paths;
  item["RepoTags"] = nullptr;
  Json repositories = Json::object();
  for (const auto& tag : image.repo_tags) {
    const std::string ref = parse_repo_tag(tag);
    item["RepoTags"].push_back(ref);
    const auto colon = ref.rfind(':');
    if (!parent.empty()) {
      repositories[ref.substr(0, colon)][ref.substr(colon + 1)] = parent;
    }
  }
  members.push_back({"manifest.json", readers::EntryType::regular, canonical_json(Json::array({item})), nullptr});
  if (!repositories.empty()) {
    members.push_back({"repositories", readers::EntryType::regular, canonical_json(repositories), nullptr});
  }
  std::sort(members.begin(), members.end(), [](const ArchiveMember& a, const ArchiveMember& b) { return a.path < b.path; });

  util::AtomicFile file(out);
  util::FdSink sink(file.fd(), out);
  normalize::CanonicalTarWriter tar(sink);
  for (const auto& m : members) {
    if (m.layer && m.layer->compression == normalize::Compression::none) {
      write_plain_layer(m, image.epoch, tar);
    } else if (m.layer) {
      write_compressed_layer(m, image.epoch, tar);
    } else {
      tar.begin_entry(entry_for(m, m.bytes.size(), image.epoch));
      if (!m.bytes.empty()) {
        tar.write_data(m.bytes.data(), m.bytes.size());
      }
      tar.end_entry();
    }
  }
  tar.finish();
  file.commit();
}

std::string parse_repo_tag(const std::string& text)
{
  // The reference grammar of distribution/reference, less digests (a RepoTag names a tag).
  static const std::regex name_re(
      R"(^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?)"
      R"([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$)");
  static const std::regex tag_re(R"(^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$)");
  const auto invalid = [&](const std::string& why) -> util::Error {
    return util::Error("invalid image reference '" + util::printable(text) + "': " + why);
  };
  if (text.find('@') != std::string::npos) {
    throw invalid("a digest cannot be a tag; want name[:tag]");
  }
  std::string name = text;
  std::string tag = "latest";
  const auto colon = text.rfind(':');
  const auto slash = text.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    name = text.substr(0, colon);
    tag = text.substr(colon + 1);
  }
  if (name.size() > 255 || !std::regex_match(name, name_re)) {
    throw invalid("want name[:tag], the name in lower case (letters, digits, '.', '_', '-', '/'), "
                  "e.g. busybox:1.36");
  }
  if (!std::regex_match(tag, tag_re)) {
    throw invalid("the tag must be 1-128 of letters, digits, '_', '.', '-', not starting with '.' or '-'");
  }
  return name + ":" + tag;
}

} // namespace reproimg::image
