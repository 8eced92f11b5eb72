// Image reading: reference parsing, directory and archive stores, index/manifest/config resolution.
#include "image/image_source.hpp"

#include "digest/sha256.hpp"
#include "image/dir_transport.hpp"
#include "image/media_types.hpp"
#include "normalize/compress.hpp"
#include "normalize/path.hpp"
#include "readers/decompress.hpp"
#include "readers/tar_reader.hpp"
#include "registry/reference.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <sys/stat.h>

namespace reproimg::image {

namespace {

constexpr std::uint64_t k_max_document = 8u << 20; // index, manifest, config: JSON, never large

// "PATH:REF" -> {PATH, REF} where PATH exists: the whole when it exists, else up to the first ':'
// whose prefix does.
std::pair<std::string, std::string> split_existing(const std::string& spec, bool docker)
{
  if (util::is_directory(spec) || util::is_regular_file(spec)) {
    return {spec, ""};
  }
  // docker-archive:FILE:name:tag, oci:DIR:name:tag -> the first ':' whose prefix exists (skopeo
  // splits at the first ':'; a reference may hold more).
  for (size_t pos = spec.find(':'); pos != std::string::npos; pos = spec.find(':', pos + 1)) {
    const std::string path = spec.substr(0, pos);
    if (docker ? util::is_regular_file(path) : (util::is_regular_file(path) || util::is_directory(path))) {
      return {path, spec.substr(pos + 1)};
    }
  }
  const auto pos = spec.rfind(':');
  if (pos != std::string::npos && spec.find('/', pos) == std::string::npos) {
    return {spec.substr(0, pos), spec.substr(pos + 1)};
  }
  return {spec, ""};
}

struct IndexedMember {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  bool has_data = false; // the bytes lie contiguous in the archive
  bool symlink = false;
  std::string link_target;
};

// Indexes the members of an uncompressed tar by canonical path (data offsets, not data), and keeps
// libarchive's warnings about its headers.
class MemberIndexer : public readers::EntryVisitor {
public:
  MemberIndexer(std::map<std::string, IndexedMember>& members, std::vector<std::string>& warnings)
      : m_members(members), m_warnings(warnings)
  {
  }
  void on_entry(readers::SourceEntry& e, readers::EntryData& data) override
  {
    const auto cp = normalize::canonical_path(e.path);
    if (cp.status != normalize::PathStatus::ok) {
      return; // "./" and such: nothing an image refers to
    }
    IndexedMember m;
    if (e.type == readers::EntryType::regular) {
      m.size = e.size;
      if (const auto off = data.source_offset()) {
        m.offset = *off;
        m.has_data = true;
      } else {
        m.has_data = e.size == 0;
      }
    } else if (e.type == readers::EntryType::symlink || e.type == readers::EntryType::hardlink) {
      m.symlink = true;
      m.link_target = e.link_target;
      if (e.type == readers::EntryType::hardlink) {
        m.link_target = "/" + e.link_target; // archive-absolute
      }
    } else {
      return;
    }
    m_members[cp.path] = m;
  }
  void on_warning(const std::string& message) override { m_warnings.push_back(message); }

private:
  std::map<std::string, IndexedMember>& m_members;
  std::vector<std::string>& m_warnings;
};

// Decides, reading as few headers as it can, whether an uncompressed tar is an image archive: one
// with a top-level manifest.json (docker-archive) or oci-layout and index.json (oci-archive).
// Image archives hold plain files, directories and links at most three levels deep
// (blobs/sha256/HEX, HEX/layer.tar); the first member that is anything else (a device, a fifo, a
// deeper path: what a rootfs holds within its first entries) ends the scan: the tar is a layer.
// So does a compressed tar (image archives are read uncompressed), at its first file.
class ImageArchiveProbe : public readers::EntryVisitor {
public:
  struct NotAnImage {};

  void on_entry(readers::SourceEntry& e, readers::EntryData& data) override
  {
    // A member whose bytes are not in the file as they are (compressed input): not an image
    // archive reproimg reads, whatever it holds; nothing more is decompressed to find out.
    if (e.type == readers::EntryType::regular && e.size > 0 && !data.source_offset()) {
      throw NotAnImage{};
    }
    const auto cp = normalize::canonical_path(e.path);
    if (cp.status != normalize::PathStatus::ok) {
      return;
    }
    switch (e.type) {
    case readers::EntryType::regular:
    case readers::EntryType::directory:
    case readers::EntryType::symlink:
    case readers::EntryType::hardlink: break;
    default: throw NotAnImage{};
    }
    if (std::count(cp.path.begin(), cp.path.end(), '/') > 2) {
      throw NotAnImage{};
    }
    if (e.type != readers::EntryType::directory) {
      m_manifest_json = m_manifest_json || cp.path == "manifest.json";
      m_oci_layout = m_oci_layout || cp.path == "oci-layout";
      m_index_json = m_index_json || cp.path == "index.json";
    }
  }
  // A probe: an image archive found is read again by ArchiveStore, whose MemberIndexer keeps the
  // same warnings for the command to pass on (ImageStore::warnings).
  void on_warning(const std::string&) override {}

  std::optional<ImageRef::Kind> kind() const
  {
    if (m_manifest_json) {
      return ImageRef::Kind::docker_archive;
    }
    if (m_oci_layout && m_index_json) {
      return ImageRef::Kind::oci_archive;
    }
    return std::nullopt;
  }

private:
  bool m_manifest_json = false;
  bool m_oci_layout = false;
  bool m_index_json = false;
};

class DirStore : public ImageStore {
public:
  explicit DirStore(std::string root) : m_root(std::move(root)) {}
  bool exists(const std::string& path) const override { return util::is_regular_file(full(path)); }
  std::string read_small(const std::string& path, std::uint64_t max_size) const override
  {
    if (size_of(path) > max_size) {
      throw util::Error(util::Location{full(path), std::nullopt, std::nullopt}, "too large for a JSON document");
    }
    return util::read_file(full(path));
  }
  readers::LayerSource layer_source(const std::string& path) const override
  {
    size_of(path);
    return {readers::LayerSource::Kind::tar, full(path)};
  }
  std::uint64_t size_of(const std::string& path) const override
  {
    struct stat st {};
    if (::stat(full(path).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      throw util::Error(util::Location{full(path), std::nullopt, std::nullopt}, "missing from the image");
    }
    return static_cast<std::uint64_t>(st.st_size);
  }
  std::string describe(const std::string& path) const override { return full(path); }

private:
  std::string full(const std::string& path) const
  {
    const auto cp = normalize::canonical_path(path);
    if (cp.status != normalize::PathStatus::ok) {
      throw util::Error(util::Location{m_root, path, std::nullopt}, "unsafe path in the image");
    }
    return m_root + "/" + cp.path;
  }
  std::string m_root;
};

class ArchiveStore : public ImageStore {
public:
  explicit ArchiveStore(std::string file) : m_file(std::move(file))
  {
    util::Fd fd = util::open_read(m_file);
    const readers::TarInput input = readers::tar_input_of(fd.get(), m_file);
    MemberIndexer indexer(m_members, m_warnings);
    util::Progress quiet(util::ProgressMode::off, "");
    const auto result = readers::read_tar(input, indexer, quiet, {readers::SourceOffsets::offered});
    if (result.compression != "none") {
      throw util::Error(util::Location{m_file, std::nullopt, std::nullopt},
                        "a " + result.compression + "-compressed image archive; decompress it first");
    }
  }
  bool exists(const std::string& path) const override { return find(path) != nullptr; }
  std::string read_small(const std::string& path, std::uint64_t max_size) const override
  {
    const IndexedMember& m = get(path);
    if (m.size > max_size) {
      throw util::Error(util::Location{m_file, path, std::nullopt}, "too large for a JSON document");
    }
    std::string out(static_cast<size_t>(m.size), '\0');
    util::Fd fd = util::open_read(m_file);
    util::pread_exact(fd.get(), out.data(), out.size(), m.offset, m_file);
    return out;
  }
  readers::LayerSource layer_source(const std::string& path) const override
  {
    const IndexedMember& m = get(path);
    readers::LayerSource s{readers::LayerSource::Kind::tar, m_file};
    s.offset = m.offset;
    s.length = m.size;
    return s;
  }
  std::uint64_t size_of(const std::string& path) const override { return get(path).size; }
  std::string describe(const std::string& path) const override { return m_file + ":" + path; }
  const std::vector<std::string>& warnings() const override { return m_warnings; }

private:
  const IndexedMember* find(const std::string& path) const
  {
    auto cp = normalize::canonical_path(path);
    if (cp.status != normalize::PathStatus::ok) {
      return nullptr;
    }
    std::string p = cp.path;
    // docker save links repeated layers to the first copy: follow (a few) symlinks.
    for (int hops = 0; hops < 8; ++hops) {
      const auto it = m_members.find(p);
      if (it == m_members.end()) {
        return nullptr;
      }
      if (!it->second.symlink) {
        return &it->second;
      }
      const std::string& t = it->second.link_target;
      std::string joined;
      if (!t.empty() && t[0] == '/') {
        joined = t;
      } else {
        const auto slash = p.rfind('/');
        joined = (slash == std::string::npos ? "" : p.substr(0, slash + 1)) + t;
      }
      // Resolve ".." lexically, never above the archive's root.
      std::vector<std::string> parts;
      size_t i = 0;
      while (i <= joined.size()) {
        size_t j = joined.find('/', i);
        if (j == std::string::npos) j = joined.size();
        const std::string part = joined.substr(i, j - i);
        if (part == "..") {
          if (parts.empty()) return nullptr;
          parts.pop_back();
        } else if (!part.empty() && part != ".") {
          parts.push_back(part);
        }
        i = j + 1;
      }
      p.clear();
      for (const auto& part : parts) {
        p += (p.empty() ? "" : "/") + part;
      }
    }
    return nullptr;
  }
  const IndexedMember& get(const std::string& path) const
  {
    const IndexedMember* m = find(path);
    if (!m) {
      throw util::Error(util::Location{m_file, path, std::nullopt}, "missing from the archive");
    }
    if (!m->has_data) {
      throw util::Error(util::Location{m_file, path, std::nullopt}, "member data is not readable in place");
    }
    return *m;
  }
  std::string m_file;
  std::map<std::string, IndexedMember> m_members;
  std::vector<std::string> m_warnings;
};

// The hex part of a sha256 digest: what blob files are named by.
std::string sha256_hex(const std::string& digest, const std::string& what)
{
  if (digest.rfind("sha256:", 0) == 0 && !digest::is_sha256_digest(digest)) {
    throw util::Error(util::Location::of(what), "malformed digest '" + util::printable(digest) + "'");
  }
  if (!digest::is_sha256_digest(digest)) {
    throw util::Error(util::Location::of(what),
                      "unsupported digest '" + util::printable(digest) + "' (reproimg reads sha256)");
  }
  return digest.substr(7);
}

// skopeo's directory transport: files named by the hex of their digest (HEX.tar in version 1.0),
// the manifests an index lists as HEX.manifest.json.
class DirTransportStore : public DirStore {
public:
  DirTransportStore(std::string root, unsigned minor_version) : DirStore(std::move(root)), m_minor(minor_version) {}
  std::string blob_path(const std::string& digest, const std::string& what) const override
  {
    return sha256_hex(digest, what) + (m_minor == 0 ? ".tar" : "");
  }
  std::string manifest_path(const std::string& digest, const std::string& what) const override
  {
    return sha256_hex(digest, what) + ".manifest.json";
  }

private:
  unsigned m_minor;
};

Json parse_json(const std::string& bytes, const std::string& what)
{
  try {
    return Json::parse(bytes);
  } catch (const std::exception& e) {
    throw util::Error(util::Location::of(what), std::string("not valid JSON: ") + e.what());
  }
}

std::string get_string(const Json& j, const char* key, const std::string& what)
{
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) {
    throw util::Error(util::Location::of(what), std::string("missing or non-string \"") + key + "\"");
  }
  return j[key].get<std::string>();
}

std::uint64_t get_size(const Json& j, const std::string& what)
{
  if (!j.contains("size") || !j["size"].is_number_unsigned()) {
    throw util::Error(util::Location::of(what), "missing or invalid \"size\"");
  }
  return j["size"].get<std::uint64_t>();
}

// The compression an OCI layer media type promises ("" for none promised: the bytes decide). Docker's
// types promise nothing: Docker reads a layer by its magic number whatever its type says, and
// `podman save --format docker-dir` stores uncompressed layers as "...diff.tar.gzip" (podman issue 2013).
std::string compression_of(const std::string& media_type)
{
  if (media_type.rfind("application/vnd.docker.", 0) == 0) return "";
  if (media_type.size() >= 5 && media_type.compare(media_type.size() - 5, 5, "+gzip") == 0) return "gzip";
  if (media_type.size() >= 5 && media_type.compare(media_type.size() - 5, 5, "+zstd") == 0) return "zstd";
  if (media_type == media::oci_layer) return "none";
  return "";
}

bool is_index(const std::string& mt)
{
  return mt == media::oci_index || mt == media::docker_manifest_list;
}

bool is_image_manifest(const std::string& mt)
{
  return mt == media::oci_manifest || mt == media::docker_manifest;
}

std::string platform_text(const Json& p)
{
  if (!p.is_object()) {
    return "unknown";
  }
  std::string s = string_or(p, "os", "?") + "/" + string_or(p, "architecture", "?");
  if (p.contains("variant") && p["variant"].is_string()) {
    s += "/" + p["variant"].get<std::string>();
  }
  return s;
}

struct Candidate {
  Json descriptor;
  std::string where;
  std::string tag; // its own ref.name, or that of the index it was found under
};

std::string ref_name(const Json& d)
{
  if (d.contains("annotations") && d["annotations"].is_object()) {
    const Json& a = d["annotations"];
    if (a.contains("org.opencontainers.image.ref.name") && a["org.opencontainers.image.ref.name"].is_string()) {
      return a["org.opencontainers.image.ref.name"].get<std::string>();
    }
  }
  return "";
}

// An attestation that BuildKit lists in an index beside the images (an in-toto statement in a
// manifest of platform unknown/unknown, annotated vnd.docker.reference.type): no image to read.
bool is_attestation(const Json& d)
{
  if (d.contains("annotations") && d["annotations"].is_object()) {
    const Json& a = d["annotations"];
    if (a.contains("vnd.docker.reference.type") && a["vnd.docker.reference.type"] == "attestation-manifest") {
      return true;
    }
  }
  const Json p = d.contains("platform") ? d["platform"] : Json();
  return p.is_object() && string_or(p, "os", "") == "unknown" && string_or(p, "architecture", "") == "unknown";
}

// Collects image manifests under an index (nested indexes followed, depth-limited), attestations
// passed over (copy --all takes the index as it is, them included).
void collect(const ImageStore& store, const Json& index, const std::string& where, int depth,
             const std::string& inherited_tag, std::vector<Candidate>& out)
{
  if (depth > 8) {
    throw util::Error(util::Location::of(where), "indexes nested too deeply (a loop?)");
  }
  if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) {
    throw util::Error(util::Location::of(where), "no \"manifests\" list");
  }
  for (const auto& d : index["manifests"]) {
    const std::string mt = get_string(d, "mediaType", where);
    const std::string own = ref_name(d);
    const std::string tag = own.empty() ? inherited_tag : own;
    if (is_index(mt)) {
      const std::string digest = get_string(d, "digest", where);
      const std::string path = store.manifest_path(digest, where);
      const std::string bytes = store.read_small(path, k_max_document);
      verify_blob(bytes, digest, get_size(d, where), store.describe(path));
      collect(store, parse_json(bytes, store.describe(path)), store.describe(path), depth + 1, tag, out);
    } else if (is_image_manifest(mt) && !is_attestation(d)) {
      out.push_back({d, where, tag});
    }
  }
}

// The one candidate that the reference's tag and the platform leave; an error lists them otherwise.
const Candidate& choose_candidate(const std::vector<Candidate>& all, const ImageRef& ref,
                                  const std::optional<Platform>& platform, const std::string& where)
{
  std::vector<const Candidate*> named;
  for (const auto& c : all) {
    if (ref.reference.empty() || c.tag == ref.reference) {
      named.push_back(&c);
    }
  }
  if (named.empty()) {
    throw util::Error(util::Location{where, std::nullopt, std::nullopt},
                      ref.reference.empty() ? "no image manifest in the layout"
                                            : "no image tagged '" + util::printable(ref.reference) + "'");
  }
  std::vector<const Candidate*> chosen;
  const Platform want = platform.value_or(host_platform()); // as for a registry, and as skopeo reads oci:
  for (const Candidate* c : named) {
    const Json p = c->descriptor.contains("platform") ? c->descriptor["platform"] : Json();
    if (named.size() == 1 ||
        (p.is_object() && string_or(p, "os", "") == want.os && string_or(p, "architecture", "") == want.architecture &&
         (want.variant.empty() || string_or(p, "variant", "") == want.variant))) {
      chosen.push_back(c);
    }
  }
  if (chosen.size() != 1) {
    std::string list;
    const size_t shown = std::min<size_t>(named.size(), 8);
    for (size_t i = 0; i < shown; ++i) {
      const Json& d = named[i]->descriptor;
      const std::string& tag = named[i]->tag;
      list += (list.empty() ? "" : ", ") + (tag.empty() ? std::string("untagged") : "tag " + util::printable(tag)) +
              " " + platform_text(d.contains("platform") ? d["platform"] : Json());
    }
    if (shown < named.size()) {
      list += ", ...";
    }
    const std::string wanted = platform && chosen.empty()
                                   ? "no image for " + want.os + "/" + want.architecture +
                                         (want.variant.empty() ? "" : "/" + want.variant) + " among "
                                   : "";
    throw util::Error(util::Location{where, std::nullopt, std::nullopt},
                      wanted + std::to_string(named.size()) + " image manifests (" + list +
                          "); choose one with oci:DIR:TAG or --platform");
  }
  return *chosen[0];
}

// The config and layers a manifest names, for ImageStore::prefetch (each checked again when read).
std::vector<BlobWant> wanted_blobs(const Json& manifest, const std::string& what)
{
  std::vector<BlobWant> out;
  out.push_back({get_string(manifest["config"], "digest", what), get_size(manifest["config"], what)});
  if (manifest.contains("layers") && manifest["layers"].is_array()) {
    for (const auto& ld : manifest["layers"]) {
      out.push_back({get_string(ld, "digest", what), get_size(ld, what)});
    }
  }
  return out;
}

// The image a manifest describes (its bytes and digest already known): the config read and
// verified, the layer descriptors checked against the blobs' sizes.
Image image_of_manifest(const ImageStore& store, const ImageRef& ref, const std::string& media_type,
                        const std::string& digest, std::string bytes, const std::string& mwhat)
{
  if (media_type == media::docker_manifest_v1 || media_type == media::docker_manifest_v1_signed) {
    throw util::Error(util::Location::of(mwhat),
                      "a Docker schema 1 manifest, which reproimg does not read (skopeo copy --format v2s2 "
                      "converts it)");
  }
  if (!is_image_manifest(media_type)) {
    throw util::Error(util::Location::of(mwhat),
                      "not an image manifest (media type '" + util::printable(media_type) + "')");
  }
  Image img;
  img.ref = ref;
  img.manifest_media_type = media_type;
  img.manifest_digest = digest;
  img.manifest_bytes = std::move(bytes);
  const Json manifest = parse_json(img.manifest_bytes, mwhat);
  if (!manifest.contains("config") || !manifest["config"].is_object()) {
    throw util::Error(util::Location::of(mwhat), "no \"config\" descriptor");
  }
  const Json& cd = manifest["config"];
  const std::string config_mt = get_string(cd, "mediaType", mwhat);
  if (config_mt != media::oci_config && config_mt != media::docker_config) {
    throw util::Error(util::Location::of(mwhat),
                      "not a container image (config media type " + util::printable(config_mt) + ")");
  }
  img.config_digest = get_string(cd, "digest", mwhat);
  store.prefetch(wanted_blobs(manifest, mwhat));
  const std::string cpath = store.blob_path(img.config_digest, mwhat);
  img.config_bytes = store.read_small(cpath, k_max_document);
  verify_blob(img.config_bytes, img.config_digest, get_size(cd, mwhat), store.describe(cpath));
  img.config = parse_json(img.config_bytes, store.describe(cpath));
  if (!manifest.contains("layers") || !manifest["layers"].is_array()) {
    throw util::Error(util::Location::of(mwhat), "no \"layers\" list");
  }
  for (const auto& ld : manifest["layers"]) {
    LayerRef l;
    l.media_type = get_string(ld, "mediaType", mwhat);
    l.digest = get_string(ld, "digest", mwhat);
    l.size = get_size(ld, mwhat);
    l.path = store.blob_path(l.digest, mwhat);
    l.compression = compression_of(l.media_type);
    if (store.size_of(l.path) != l.size) {
      throw util::Error(util::Location{store.describe(l.path), std::nullopt, std::nullopt},
                        "size " + std::to_string(store.size_of(l.path)) + " differs from the descriptor's " +
                            std::to_string(l.size));
    }
    img.layers.push_back(l);
  }
  return img;
}

// The digest a docker-archive member's name carries: "HEX.json" (docker save, skopeo) or
// "blobs/sha256/HEX" (docker save since 25).
std::optional<std::string> digest_in_name(const std::string& path)
{
  std::string name = path;
  if (name.rfind("blobs/sha256/", 0) == 0) {
    name = name.substr(13);
  } else if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0 && name.find('/') == std::string::npos) {
    name = name.substr(0, name.size() - 5);
  } else {
    return std::nullopt;
  }
  const std::string digest = "sha256:" + name;
  return digest::is_sha256_digest(digest) ? std::optional<std::string>(digest) : std::nullopt;
}

// The image a manifest descriptor (from an index) names, the manifest verified against it.
Image image_of_descriptor(const ImageStore& store, const ImageRef& ref, const Json& md)
{
  const std::string media_type = get_string(md, "mediaType", "manifest descriptor");
  const std::string digest = get_string(md, "digest", "manifest descriptor");
  const std::string path = store.manifest_path(digest, "manifest descriptor");
  std::string bytes = store.read_small(path, k_max_document);
  verify_blob(bytes, digest, get_size(md, "manifest descriptor"), store.describe(path));
  return image_of_manifest(store, ref, media_type, digest, std::move(bytes), store.describe(path));
}

Image load_oci(const ImageStore& store, const ImageRef& ref, const std::optional<Platform>& platform)
{
  if (!store.exists("index.json")) {
    throw util::Error(util::Location{store.describe("index.json"), std::nullopt, std::nullopt},
                      "missing: not an OCI image layout");
  }
  const Json index = parse_json(store.read_small("index.json", k_max_document), store.describe("index.json"));
  std::vector<Candidate> all;
  collect(store, index, store.describe("index.json"), 0, "", all);
  return image_of_descriptor(store, ref, choose_candidate(all, ref, platform, store.describe("index.json")).descriptor);
}

// skopeo's directory transport: manifest.json is the manifest itself (its digest that of its bytes)
// or, for `skopeo copy --multi-arch`, an index whose manifests are HEX.manifest.json.
Image load_dir_transport(const ImageStore& store, const ImageRef& ref, const std::optional<Platform>& platform)
{
  const std::string what = store.describe("manifest.json");
  if (!store.exists("manifest.json")) {
    throw util::Error(util::Location{what, std::nullopt, std::nullopt}, "missing: the directory transport's manifest");
  }
  std::string bytes = store.read_small("manifest.json", k_max_document);
  const Json manifest = parse_json(bytes, what);
  const std::string media_type = manifest_media_type_of(manifest);
  if (is_index(media_type)) {
    std::vector<Candidate> all;
    collect(store, manifest, what, 0, "", all);
    return image_of_descriptor(store, ref, choose_candidate(all, ref, platform, what).descriptor);
  }
  const std::string digest = digest::sha256_digest(bytes);
  return image_of_manifest(store, ref, media_type, digest, std::move(bytes), what);
}

Image load_docker(const ImageStore& store, const ImageRef& ref)
{
  const std::string what = store.describe("manifest.json");
  const Json list = parse_json(store.read_small("manifest.json", k_max_document), what);
  if (!list.is_array() || list.empty()) {
    throw util::Error(util::Location::of(what), "not a list of images");
  }
  std::string want = ref.reference;
  if (!want.empty() && want[0] != '@' && want.find(':') == std::string::npos) {
    want += ":latest";
  }
  const Json* chosen = nullptr;
  std::string tags;
  for (const auto& entry : list) {
    if (!entry.is_object()) {
      throw util::Error(util::Location::of(what), "an entry is not an object");
    }
    if (entry.contains("RepoTags") && entry["RepoTags"].is_array()) {
      for (const auto& t : entry["RepoTags"]) {
        if (t.is_string()) {
          tags += (tags.empty() ? "" : ", ") + t.get<std::string>();
          if (t.get<std::string>() == want) {
            chosen = &entry;
          }
        }
      }
    }
  }
  if (!want.empty() && want[0] == '@') {
    // skopeo's docker-archive:FILE:@N: the N-th image of manifest.json.
    size_t n = 0;
    try {
      n = std::stoul(want.substr(1));
    } catch (const std::exception&) {
      throw util::Error(util::Location::of(what), "'" + util::printable(want) + "' is not @INDEX");
    }
    if (n >= list.size()) {
      throw util::Error(util::Location::of(what),
                        "no image @" + std::to_string(n) + " (" + std::to_string(list.size()) + " images)");
    }
    chosen = &list[n];
  } else if (want.empty()) {
    if (list.size() != 1) {
      throw util::Error(util::Location::of(what), std::to_string(list.size()) + " images (" + tags +
                        "); name one: docker-archive:FILE:name:tag");
    }
    chosen = &list[0];
  } else if (!chosen) {
    throw util::Error(util::Location::of(what), "no image tagged '" + util::printable(want) + "' (have: " + tags + ")");
  }
  Image img;
  img.ref = ref;
  const std::string config_path = get_string(*chosen, "Config", what);
  img.config_bytes = store.read_small(config_path, k_max_document);
  img.config_digest = digest::sha256_digest(img.config_bytes);
  // docker save and skopeo name the config by its digest ("HEX.json", "blobs/sha256/HEX"): the
  // only check a docker-archive offers for it, and through it for every layer's diff_id.
  if (const auto named = digest_in_name(config_path); named && *named != img.config_digest) {
    throw util::Error(util::Location{store.describe(config_path), std::nullopt, std::nullopt},
                      "content digest " + img.config_digest + " differs from the one its name gives, " + *named);
  }
  img.config = parse_json(img.config_bytes, store.describe(config_path));
  if (chosen->contains("RepoTags") && (*chosen)["RepoTags"].is_array()) {
    for (const auto& t : (*chosen)["RepoTags"]) {
      if (t.is_string()) img.repo_tags.push_back(t.get<std::string>());
    }
  }
  if (!chosen->contains("Layers") || !(*chosen)["Layers"].is_array()) {
    throw util::Error(util::Location::of(what), "no \"Layers\" list");
  }
  for (const auto& lp : (*chosen)["Layers"]) {
    if (!lp.is_string()) {
      throw util::Error(util::Location::of(what), "a layer path is not a string");
    }
    LayerRef l;
    l.path = lp.get<std::string>();
    l.size = store.size_of(l.path);
    // The media type and blob digest come from the bytes (identify_archive_layer): a path names
    // the layer, not a descriptor.
    img.layers.push_back(l);
  }
  return img;
}

// How a stored blob is compressed, by its first bytes.
std::string stored_compression_of(const ImageStore& store, const std::string& path)
{
  const readers::LayerSource src = store.layer_source(path);
  const std::uint64_t size = src.length ? *src.length : store.size_of(path);
  const size_t n = static_cast<size_t>(std::min<std::uint64_t>(8, size));
  if (src.growing) {
    src.growing->wait_beyond(0, n); // a blob being downloaded: its first bytes
  }
  util::Fd fd = readers::open_layer(src);
  unsigned char head[8] = {};
  util::pread_exact(fd.get(), head, n, src.offset, store.describe(path));
  return readers::sniff_codec(head, n, n == size).name;
}

// The sha256 of a stored blob's bytes.
std::string stored_sha256(const ImageStore& store, const std::string& path)
{
  const readers::LayerSource src = store.layer_source(path);
  util::Fd fd = readers::open_layer(src, readers::Growth::wait);
  const std::uint64_t size = src.length ? *src.length : store.size_of(path);
  digest::Sha256 hash;
  std::vector<unsigned char> buffer(1 << 20);
  for (std::uint64_t done = 0; done < size;) {
    const size_t n = static_cast<size_t>(std::min<std::uint64_t>(buffer.size(), size - done));
    util::pread_exact(fd.get(), buffer.data(), n, src.offset + done, store.describe(path));
    hash.update(buffer.data(), n);
    done += n;
  }
  return hash.finish_digest();
}

// A docker-archive names layer i by a path: its blob digest is computed from the stored bytes (so
// that reports never lack one) and its media type is Docker's for them. An uncompressed layer is
// its own tar: its digest must be the config's diff_id (a compressed one is checked when read).
void identify_archive_layer(const ImageStore& store, LayerRef& l, const std::string& diff_id, size_t i)
{
  l.media_type = l.stored_compression == "gzip"   ? media::docker_layer_gzip
                 : l.stored_compression == "zstd" ? media::docker_layer_zstd
                                                  : media::docker_layer;
  l.digest = stored_sha256(store, l.path);
  if (l.stored_compression == "none" && l.digest != diff_id) {
    throw util::Error(util::Location{store.describe(l.path), std::nullopt, std::nullopt},
                      "the uncompressed layer's sha256 " + l.digest + " differs from the config's rootfs.diff_ids[" +
                          std::to_string(i) + "] " + diff_id);
  }
}

} // namespace

readers::LayerSource checked_layer_source(const ImageStore& store, const Image& image, size_t i)
{
  const LayerRef& l = image.layers.at(i);
  readers::LayerSource source = store.layer_source(l.path);
  source.label = store.describe(l.path);
  readers::BlobExpectation expect;
  expect.digest = l.digest;
  expect.size = l.size;
  if (i < image.diff_ids.size() && image.diff_ids.size() == image.layers.size()) {
    expect.diff_id = image.diff_ids[i];
    expect.diff_id_source = "the config's rootfs.diff_ids[" + std::to_string(i) + "]";
  }
  source.expect = expect;
  return source;
}

std::string ImageStore::blob_path(const std::string& digest, const std::string& what) const
{
  return "blobs/sha256/" + sha256_hex(digest, what);
}

std::string ImageStore::manifest_path(const std::string& digest, const std::string& what) const
{
  return blob_path(digest, what);
}

const std::vector<std::string>& ImageStore::warnings() const
{
  static const std::vector<std::string> k_none;
  return k_none;
}

void verify_blob(const std::string& bytes, const std::string& digest, std::uint64_t size, const std::string& what)
{
  if (bytes.size() != size) {
    throw util::Error(util::Location::of(what), "size " + std::to_string(bytes.size()) +
                                                    " differs from the descriptor's " + std::to_string(size));
  }
  const std::string actual = digest::sha256_digest(bytes);
  if (actual != digest) {
    throw util::Error(util::Location::of(what),
                      "content digest " + actual + " differs from the descriptor's " + digest);
  }
}

std::optional<ImageRef> parse_image_ref(const std::string& spec)
{
  if (registry::is_registry_spec(spec)) {
    return ImageRef{ImageRef::Kind::registry, registry::parse_reference(spec).display(), ""};
  }
  readers::refuse_unread_transport(spec);
  auto with_prefix = [&](const char* prefix, ImageRef::Kind kind) -> std::optional<ImageRef> {
    const std::string p = prefix;
    if (spec.rfind(p, 0) != 0) {
      return std::nullopt;
    }
    const auto [path, reference] = split_existing(spec.substr(p.size()), kind == ImageRef::Kind::docker_archive);
    return ImageRef{kind, path, reference};
  };
  if (auto r = with_prefix("oci:", ImageRef::Kind::oci)) return r;
  if (auto r = with_prefix("oci-archive:", ImageRef::Kind::oci_archive)) return r;
  if (auto r = with_prefix("docker-archive:", ImageRef::Kind::docker_archive)) return r;
  // dir:PATH is skopeo's directory transport when PATH holds one, else a rootfs.
  if (spec.rfind("dir:", 0) == 0) {
    const std::string path = spec.substr(4);
    if (util::is_directory(path) && holds_dir_transport(path)) {
      return ImageRef{ImageRef::Kind::dir_transport, path, ""};
    }
    return std::nullopt;
  }
  if (spec.rfind("tar:", 0) == 0 || spec == "-") {
    return std::nullopt;
  }
  if (util::is_directory(spec)) {
    if (util::is_regular_file(spec + "/oci-layout") || util::is_regular_file(spec + "/index.json")) {
      return ImageRef{ImageRef::Kind::oci, spec, ""};
    }
    if (holds_dir_transport(spec)) {
      return ImageRef{ImageRef::Kind::dir_transport, spec, ""};
    }
    return std::nullopt;
  }
  if (!util::is_regular_file(spec)) {
    return std::nullopt;
  }
  // A file: an image archive if it is an uncompressed tar holding manifest.json or oci-layout.
  try {
    util::Fd fd = util::open_read(spec);
    const readers::TarInput input = readers::tar_input_of(fd.get(), spec);
    ImageArchiveProbe probe;
    util::Progress quiet(util::ProgressMode::off, "");
    if (readers::read_tar(input, probe, quiet, {readers::SourceOffsets::offered}).compression != "none") {
      return std::nullopt;
    }
    if (const auto kind = probe.kind()) {
      return ImageRef{*kind, spec, ""};
    }
  } catch (const ImageArchiveProbe::NotAnImage&) {
    // A member no image archive has.
  } catch (const util::IoError&) {
    throw; // unreadable is not "a layer"
  } catch (const util::Error&) {
    // Compressed or not a tar: a layer, as far as detection goes.
  }
  return std::nullopt;
}

std::unique_ptr<ImageStore> ImageStore::open(const ImageRef& ref)
{
  if (ref.kind == ImageRef::Kind::registry) {
    return open_registry_store(ref);
  }
  struct stat st {};
  if (::stat(ref.path.c_str(), &st) != 0 && errno == ENOENT) {
    throw util::Error(util::Location{ref.path, std::nullopt, std::nullopt}, "does not exist");
  }
  if (ref.kind == ImageRef::Kind::oci) {
    if (!util::is_directory(ref.path)) {
      throw util::Error(util::Location{ref.path, std::nullopt, std::nullopt}, "not a directory (an OCI layout)");
    }
    return std::make_unique<DirStore>(ref.path);
  }
  if (ref.kind == ImageRef::Kind::dir_transport) {
    if (!util::is_directory(ref.path)) {
      throw util::Error(util::Location{ref.path, std::nullopt, std::nullopt},
                        "not a directory (skopeo's directory transport)");
    }
    const std::string version = ref.path + "/version";
    return std::make_unique<DirTransportStore>(ref.path,
                                               check_dir_transport_version(read_dir_transport_version(version), version));
  }
  return std::make_unique<ArchiveStore>(ref.path);
}

const char* kind_name(ImageRef::Kind kind)
{
  switch (kind) {
  case ImageRef::Kind::oci: return "oci";
  case ImageRef::Kind::oci_archive: return "oci-archive";
  case ImageRef::Kind::docker_archive: return "docker-archive";
  case ImageRef::Kind::dir_transport: return "dir";
  case ImageRef::Kind::registry: return "docker";
  }
  return "?";
}

namespace {

// The checks and fields every loaded image gets once its manifest and config are read: the config's
// platform fields strings, its diff_ids (one per layer), each layer's stored compression.
void complete_image(const ImageStore& store, const ImageRef& ref, Image& img)
{
  if (!img.config.is_object() || !img.config.contains("rootfs") || !img.config["rootfs"].is_object() ||
      !img.config["rootfs"].contains("diff_ids") || !img.config["rootfs"]["diff_ids"].is_array()) {
    throw util::Error(util::Location{ref.path, std::nullopt, std::nullopt}, "image config has no rootfs.diff_ids");
  }
  // The platform fields are read as strings everywhere after this (digest, normalize, build).
  for (const char* key : {"os", "architecture", "variant"}) {
    if (img.config.contains(key) && !img.config[key].is_string()) {
      throw util::Error(util::Location{ref.path, std::nullopt, std::nullopt},
                        std::string("image config: \"") + key + "\" is not a string");
    }
  }
  for (const auto& d : img.config["rootfs"]["diff_ids"]) {
    if (!d.is_string()) {
      throw util::Error(util::Location{ref.path, std::nullopt, std::nullopt}, "image config: a diff_id is not a string");
    }
    img.diff_ids.push_back(d.get<std::string>());
  }
  if (img.diff_ids.size() != img.layers.size()) {
    throw util::Error(util::Location{ref.path, std::nullopt, std::nullopt},
                      "the manifest lists " + std::to_string(img.layers.size()) + " layers but the config " +
                          std::to_string(img.diff_ids.size()) + " diff_ids");
  }
  for (size_t i = 0; i < img.layers.size(); ++i) {
    LayerRef& l = img.layers[i];
    l.stored_compression = stored_compression_of(store, l.path);
    if (l.digest.empty()) {
      identify_archive_layer(store, l, img.diff_ids[i], i);
    }
  }
}

} // namespace

namespace {

ImageIndex index_of(const ImageStore& store, const ImageRef& ref, std::string bytes, std::string digest,
                    const std::string& what)
{
  ImageIndex index;
  const Json j = parse_json(bytes, what);
  index.media_type = manifest_media_type_of(j);
  index.bytes = std::move(bytes);
  index.digest = std::move(digest);
  if (!j.contains("manifests") || !j["manifests"].is_array()) {
    throw util::Error(util::Location::of(what), "no \"manifests\" list");
  }
  for (const auto& d : j["manifests"]) {
    const std::string mt = get_string(d, "mediaType", what);
    if (is_index(mt)) {
      throw util::Error(util::Location::of(what), "lists an index (" + util::printable(get_string(d, "digest", what)) +
                                                      "): copying nested indexes is not supported");
    }
    index.images.push_back(image_of_descriptor(store, ref, d));
    complete_image(store, ref, index.images.back());
  }
  return index;
}

} // namespace

std::optional<ImageIndex> load_index(const ImageStore& store, const ImageRef& ref)
{
  if (ref.kind == ImageRef::Kind::docker_archive) return std::nullopt;
  if (ref.kind == ImageRef::Kind::registry || ref.kind == ImageRef::Kind::dir_transport) {
    const std::string what = store.describe("manifest.json");
    std::string bytes = store.read_small("manifest.json", k_max_document);
    if (!is_index(manifest_media_type_of(parse_json(bytes, what)))) return std::nullopt;
    std::string digest = digest::sha256_digest(bytes);
    return index_of(store, ref, std::move(bytes), std::move(digest), what);
  }
  const std::string where = store.describe("index.json");
  const Json top = parse_json(store.read_small("index.json", k_max_document), where);
  if (!top.contains("manifests") || !top["manifests"].is_array()) {
    throw util::Error(util::Location::of(where), "no \"manifests\" list");
  }
  std::vector<const Json*> named;
  for (const auto& d : top["manifests"]) {
    if (ref.reference.empty() || ref_name(d) == ref.reference) named.push_back(&d);
  }
  if (named.size() != 1 || !is_index(get_string(*named[0], "mediaType", where))) return std::nullopt;
  const Json& d = *named[0];
  const std::string digest = get_string(d, "digest", where);
  const std::string path = store.manifest_path(digest, where);
  std::string bytes = store.read_small(path, k_max_document);
  verify_blob(bytes, digest, get_size(d, where), store.describe(path));
  return index_of(store, ref, std::move(bytes), digest, store.describe(path));
}

std::vector<Platform> list_platforms(const ImageStore& store, const ImageRef& ref)
{
  std::vector<Candidate> all;
  if (ref.kind == ImageRef::Kind::oci || ref.kind == ImageRef::Kind::oci_archive) {
    if (!store.exists("index.json")) {
      return {};
    }
    collect(store, parse_json(store.read_small("index.json", k_max_document), store.describe("index.json")),
            store.describe("index.json"), 0, "", all);
  } else if ((ref.kind == ImageRef::Kind::dir_transport || ref.kind == ImageRef::Kind::registry) &&
             store.exists("manifest.json")) {
    const std::string what = store.describe("manifest.json");
    const Json manifest = parse_json(store.read_small("manifest.json", k_max_document), what);
    if (is_index(manifest_media_type_of(manifest))) {
      collect(store, manifest, what, 0, "", all);
    }
  }
  std::vector<Platform> out;
  for (const auto& c : all) {
    const Json p = c.descriptor.contains("platform") ? c.descriptor["platform"] : Json();
    if ((ref.reference.empty() || c.tag == ref.reference) && p.is_object()) {
      out.push_back({string_or(p, "os", ""), string_or(p, "architecture", ""), string_or(p, "variant", "")});
    }
  }
  return out.size() > 1 ? out : std::vector<Platform>{};
}

Image load_image(const ImageStore& store, const ImageRef& ref, const std::optional<Platform>& platform)
{
  Image img;
  if (ref.kind == ImageRef::Kind::registry) {
    // An index in a registry is read for this machine's platform unless told otherwise.
    img = load_dir_transport(store, ref, platform ? platform : std::optional<Platform>(host_platform()));
  } else if (ref.kind == ImageRef::Kind::dir_transport) {
    img = load_dir_transport(store, ref, platform);
  } else if (ref.kind == ImageRef::Kind::docker_archive && !store.exists("index.json")) {
    img = load_docker(store, ref);
  } else if (ref.kind == ImageRef::Kind::docker_archive && store.exists("manifest.json")) {
    // Docker 25+: an OCI layout with manifest.json beside it; the manifest.json names the image.
    img = load_docker(store, ref);
  } else {
    img = load_oci(store, ref, platform);
  }
  complete_image(store, ref, img);
  return img;
}

} // namespace reproimg::image
