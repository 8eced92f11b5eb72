// Writes a whole image atomically: layers through the canonical pipeline, then config, manifest
// and index, as an OCI layout, an oci-archive or a docker-archive.
#pragma once

#include "image/image_source.hpp"
#include "image/json.hpp"
#include "image/oci_layout.hpp"
#include "normalize/entries_pipeline.hpp"
#include "normalize/pipeline.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace reproimg::image {

enum class ImageFormat { oci, oci_archive, docker_archive };

// Told of each layer blob as soon as its bytes are complete in a file, before the image is
// finished (and, for a layer kept from another image, before its checks, naming the source's file
// when the blob is one): a push starts sending it then. The file may be renamed afterwards: open
// it before returning.
using StagedBlob = std::function<void(const std::string& file, const std::string& digest, std::uint64_t size)>;

// "oci", "oci-archive" or "docker-archive"; throws util::Error otherwise.
ImageFormat parse_image_format(const std::string& name);

struct ImageTarget {
  ImageFormat format = ImageFormat::oci;
  std::string out;                    // a new or empty directory (oci), or a file
  std::string tag;                    // oci: org.opencontainers.image.ref.name; empty: none
  std::vector<std::string> repo_tags; // docker-archive: RepoTags ("name:tag")
  Platform platform;
  std::int64_t epoch = 0;             // mtime of an archive's members
  StagedBlob staged_blob;             // may be empty
};

struct WrittenImage {
  std::string manifest_digest; // empty for a docker-archive (it has no manifest blob)
  std::string config_digest;   // the image ID
  std::vector<normalize::LayerResult> layers;
};

class ImageWriter {
public:
  // Checks that out can be written (an OCI layout goes to a new or empty directory) and stages
  // the layout beside it (or in $TMPDIR for an archive).
  explicit ImageWriter(ImageTarget target);
  ~ImageWriter();
  ImageWriter(const ImageWriter&) = delete;
  ImageWriter& operator=(const ImageWriter&) = delete;

  // Normalises one layer into the image. A docker-archive's layers are stored uncompressed.
  const normalize::LayerResult& add_layer(const readers::LayerSource& source, normalize::NormalizeOptions options,
                                          normalize::Report& report);
  // The same for entries the caller produces (build): name is for messages; written, if not
  // null, receives the entries as written (see normalize_entries).
  const normalize::LayerResult& add_layer(const std::string& name, const normalize::EntryProducer& produce,
                                          normalize::NormalizeOptions options, normalize::Report& report,
                                          std::vector<readers::Entry>* written = nullptr);
  // A layer of an existing image, kept as it is (build FROM an image): its blob is copied byte for
  // byte and checked against the descriptor's digest and size and against diff_id before it is
  // used. entries, if not null, receives the layer's entries (contents are not read) in
  // the pass that checks it. The layer keeps its compression, also in a docker-archive (stored
  // decompressed there, as every docker-archive layer is).
  //
  // check says how much is checked: LayerCheck::blob (copy, when the image keeps its config) checks
  // the blob's digest and size while it is copied and its first bytes against the media type's
  // compression, but does not decompress it: diff_id is then the config's, taken as it says. A
  // docker-archive output decompresses every layer: it is always checked whole there.
  enum class LayerCheck { contents, blob };
  const normalize::LayerResult& add_existing_layer(const ImageStore& store, const LayerRef& layer,
                                                   const std::string& diff_id, readers::EntryVisitor* entries,
                                                   LayerCheck check = LayerCheck::contents);
  const std::vector<normalize::LayerResult>& layers() const { return m_layers; }
  // Where the image is staged until finish() (a build context must not read it).
  const std::string& staging_dir() const { return m_layout->dir(); }

  // Sets config["rootfs"] from the layers added, writes config, manifest and index, and moves the
  // image into place. Nothing is at out before this returns.
  WrittenImage finish(Json config);
  // For a copy (every layer added with add_existing_layer, in the source's order): writes the
  // source's config and manifest bytes as they are, so that the image keeps its ID and manifest
  // digest (a docker-archive source has no manifest: an OCI manifest is made for it; a
  // docker-archive output has none), and moves the image into place.
  WrittenImage finish_copy(const Image& source);
  // The same for an index (every layer of every image it lists added, in order): each image's
  // config and manifest bytes and the index's as they are. Not for a docker-archive.
  WrittenImage finish_index_copy(const ImageIndex& source);

private:
  // Writes index.json (one manifest, the platform's, the tag's) and moves the image into place
  // (or writes the archive); what was written.
  WrittenImage place(const std::string& config_bytes, const Descriptor& config, Descriptor manifest,
                     const std::optional<Platform>& platform);
  // A copied image's config and manifest blobs (a manifest made for a docker-archive's image).
  std::pair<Descriptor, Descriptor> add_copied_documents(const Image& source);
  // An OCI manifest of config and the layers added.
  Json oci_manifest(const Descriptor& config) const;
  template <typename Write>
  const normalize::LayerResult& add_written_layer(normalize::NormalizeOptions& options, Write write);
  const normalize::LayerResult& adopt(const std::string& scratch, const normalize::LayerResult& layer,
                                      const std::string& media_type, normalize::Compression compression);

  ImageTarget m_target;
  bool m_out_exists = false;
  std::unique_ptr<class TempDirHolder> m_staging;
  std::unique_ptr<OciLayoutBuilder> m_layout;
  std::vector<normalize::LayerResult> m_layers;
  std::vector<Descriptor> m_layer_descriptors;
  std::vector<normalize::Compression> m_layer_compression; // how each blob is stored
  int m_layer_count = 0;
};

const char* layer_media_type(normalize::Compression c);

} // namespace reproimg::image
