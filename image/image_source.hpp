// Reading images: OCI layouts, oci-archives, `docker save` archives and skopeo's directory transport,
// every blob checked against its descriptor's digest and size.
#pragma once

#include "image/json.hpp"
#include "image/oci_layout.hpp"
#include "normalize/pipeline.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace reproimg::image {

// A reference as skopeo spells it: oci:DIR[:tag], oci-archive:FILE[:tag],
// docker-archive:FILE[:name:tag], dir:DIR (when DIR holds the directory transport, not a rootfs),
// docker://[REGISTRY/]REPOSITORY[:TAG|@DIGEST] (a registry: path is the normalised reference,
// reference is empty); without a prefix the kind is detected.
struct ImageRef {
  enum class Kind { oci, oci_archive, docker_archive, dir_transport, registry };
  Kind kind = Kind::oci;
  std::string path;
  std::string reference; // tag (OCI) or name:tag (docker-archive); empty: the only image
};

// nullopt when spec names no image (a layer tar, or a directory that is neither an OCI layout nor
// the directory transport: a rootfs).
std::optional<ImageRef> parse_image_ref(const std::string& spec);

// How a kind is named in references and reports: "oci", "oci-archive", "docker-archive", "dir",
// "docker".
const char* kind_name(ImageRef::Kind kind);

// A blob an image will be read for: what a store that fetches blobs (a registry's) may fetch
// ahead, all at once.
struct BlobWant {
  std::string digest;
  std::uint64_t size = 0;
};

// Where blobs and files of an image live: a directory, the members of an uncompressed tar, or a
// registry (blobs fetched into the blob cache).
class ImageStore {
public:
  virtual ~ImageStore() = default;
  static std::unique_ptr<ImageStore> open(const ImageRef& ref);

  virtual bool exists(const std::string& path) const = 0;
  // The bytes of a small file (JSON documents): at most max_size bytes, or an error.
  virtual std::string read_small(const std::string& path, std::uint64_t max_size) const = 0;
  // The file as a layer source for the normalise pipeline (a file, or a byte range of the archive).
  virtual readers::LayerSource layer_source(const std::string& path) const = 0;
  virtual std::uint64_t size_of(const std::string& path) const = 0;
  // For messages: "FILE" or "ARCHIVE:MEMBER".
  virtual std::string describe(const std::string& path) const = 0;
  // Where the blob a sha256 digest names is: blobs/sha256/HEX (OCI layouts), HEX (the directory
  // transport). Throws util::Error naming what for a digest that is not sha256:<64 hex>.
  virtual std::string blob_path(const std::string& digest, const std::string& what) const;
  // Where a manifest (or index) an index lists is: a blob, or HEX.manifest.json (directory transport).
  virtual std::string manifest_path(const std::string& digest, const std::string& what) const;
  // What libarchive warned of while the store itself was read (an image archive's headers), one
  // line each: for the command to pass on.
  virtual const std::vector<std::string>& warnings() const;
  // Blobs the image's manifest names (the config first, then the layers), before they are read
  // one by one: a registry store fetches them (the layers in parallel, each verified). Local
  // stores have them already.
  virtual void prefetch(const std::vector<BlobWant>&) const {}
};

// The store of a docker:// reference (image/registry_store.cpp): fetches the manifest it names.
std::unique_ptr<ImageStore> open_registry_store(const ImageRef& ref);
// The platform of this machine (linux/amd64, linux/arm64, ...; image/registry_store.cpp): what an
// index in a registry is read for when no --platform is given, as Docker and skopeo do.
Platform host_platform();

struct LayerRef {
  std::string media_type; // the descriptor's; for a docker-archive (no descriptor), Docker's type for the bytes
  std::string digest;   // the blob digest (descriptor's, or for a docker-archive the sha256 of the stored bytes)
  std::uint64_t size = 0;
  std::string path;     // where the blob is in the store
  std::string compression; // "none", "gzip", "zstd" from an OCI media type ("" unknown: sniffed)
  std::string stored_compression; // what the blob's first bytes say: "none", "gzip", "zstd", "bzip2", "xz"
};

struct Image {
  ImageRef ref;
  std::string manifest_media_type; // empty for a docker-archive (manifest.json is no registry manifest)
  std::string manifest_bytes;  // empty for a docker-archive
  std::string manifest_digest;
  std::string config_bytes;
  std::string config_digest;   // the image ID
  Json config;
  std::vector<LayerRef> layers;
  std::vector<std::string> diff_ids; // from the config
  std::vector<std::string> repo_tags;
};

// Loads the image the reference names; with several candidates, platform picks one (or an error
// lists them). Blobs read here (index, manifest, config) are verified; layers are verified when read,
// except a docker-archive's, which have no descriptor: their sha256 is computed here (the blob
// digest) and, for an uncompressed layer, checked against its diff_id.
Image load_image(const ImageStore& store, const ImageRef& ref, const std::optional<Platform>& platform);

// An image index (or Docker manifest list) as a reference names it: its bytes as they are, and
// every image it lists, each loaded as load_image loads one (manifest and config verified).
struct ImageIndex {
  std::string bytes;
  std::string digest;
  std::string media_type;
  std::vector<Image> images; // in the index's order
};

// The index the reference names, or nullopt when it names one image (or a docker-archive, which
// has no index). An OCI layout's index.json is no index blob: its entry that is an index counts (the
// one of the reference's tag). Throws util::Error naming it for an index that lists an index (nested)
// or a manifest that is not a container image's.
std::optional<ImageIndex> load_index(const ImageStore& store, const ImageRef& ref);

// The platforms of the image manifests the reference names (its tag, else all of an index): one
// per manifest when there are several, each as --platform takes it; empty when the reference
// names one image (load_image then needs no platform).
std::vector<Platform> list_platforms(const ImageStore& store, const ImageRef& ref);

// Layer i of image as a source whose every read checks it: the descriptor's digest and size, and
// the config's diff_id (a docker-archive names a layer by path: its diff_id is then the check).
readers::LayerSource checked_layer_source(const ImageStore& store, const Image& image, size_t i);

// Is a blob's content what its digest says? Throws util::Error naming the blob.
void verify_blob(const std::string& bytes, const std::string& digest, std::uint64_t size, const std::string& what);

} // namespace reproimg::image
