// Writes a whole image atomically: layers through the canonical pipeline, then config, manifest
// and index, as an OCI layout, an oci-archive or a docker-archive.
#pragma once

#include "image/json.hpp"
#include "image/oci_layout.hpp"
#include "normalize/pipeline.hpp"

#include <memory>
#include <string>
#include <vector>

namespace reproimg::image {

enum class ImageFormat { oci, oci_archive, docker_archive };

// "oci", "oci-archive" or "docker-archive"; throws util::Error otherwise.
ImageFormat parse_image_format(const std::string& name);

struct ImageTarget {
  ImageFormat format = ImageFormat::oci;
  std::string out;                    // a new or empty directory (oci), or a file
  std::string tag;                    // oci: org.opencontainers.image.ref.name; empty: none
  std::vector<std::string> repo_tags; // docker-archive: RepoTags ("name:tag")
  Platform platform;
  std::int64_t epoch = 0;             // mtime of an archive's members
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
  const normalize::LayerResult& add_layer(const normalize::LayerSource& source, normalize::NormalizeOptions options,
                                          normalize::Report& report);
  const std::vector<normalize::LayerResult>& layers() const { return m_layers; }

  // Sets config["rootfs"] from the layers added, writes config, manifest and index, and moves the
  // image into place. Nothing is at out before this returns.
  WrittenImage finish(Json config);

private:
  ImageTarget m_target;
  bool m_out_exists = false;
  std::unique_ptr<class TempDirHolder> m_staging;
  std::unique_ptr<OciLayoutBuilder> m_layout;
  std::vector<normalize::LayerResult> m_layers;
  std::vector<Descriptor> m_layer_descriptors;
  int m_layer_count = 0;
};

const char* layer_media_type(normalize::Compression c);

} // namespace reproimg::image
