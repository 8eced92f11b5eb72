// The reproducible `docker import`: a rootfs (tar or directory) to a one-layer OCI image.
#pragma once

#include "image/image_writer.hpp"
#include "normalize/pipeline.hpp"

#include <string>
#include <vector>

namespace reproimg::image {

struct ImportOptions {
  normalize::NormalizeOptions layer; // policy and layer compression (a docker-archive's is none)
  Platform platform;
  std::string tag;                   // the index's org.opencontainers.image.ref.name; empty: none
  std::vector<std::string> repo_tags; // docker-archive: its RepoTags, "name:tag"; empty: untagged
  std::vector<std::string> changes;  // Dockerfile instructions (--change)
  std::string message;               // the history comment
  ImageFormat format = ImageFormat::oci;
  StagedBlob staged_blob;            // told of the layer blob as it is written (a push)
};

struct ImportResult {
  std::string manifest_digest; // empty for a docker-archive: it holds no manifest
  std::string config_digest; // the image ID
  std::string diff_id;
  std::string layer_digest;
  std::uint64_t layer_size = 0;
};

// Writes the image to out (an OCI layout directory that must not exist yet or be empty, or an
// oci-archive or docker-archive file). Nothing appears at out unless the whole image was written.
ImportResult import_rootfs(const readers::LayerSource& source, const ImportOptions& options, const std::string& out,
                           normalize::Report& report);

} // namespace reproimg::image
