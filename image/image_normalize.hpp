// Whole images: verify the layers as stored, compute their identities, and normalise them.
#pragma once

#include "image/image_source.hpp"
#include "image/image_writer.hpp"
#include "normalize/report.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reproimg::image {

// The config as `normalize` rewrites it: "created" and every history "created" set to E,
// rootfs.diff_ids replaced; everything else kept.
Json canonical_config(Json config, const std::vector<std::string>& diff_ids, std::int64_t epoch);

struct StoredLayer {
  std::string media_type;
  std::string compression;
  std::string blob_digest;
  std::uint64_t size = 0;
  std::string diff_id;
  std::string chain_id;
  std::string canonical_diff_id; // with canonical
  std::string note;              // how the tar stream ended, when not with its end blocks
  std::vector<std::string> warnings; // libarchive's about the stored stream, for the command to pass on
};

struct ImageIdentities {
  std::string manifest_digest; // empty for a legacy docker-archive
  std::string config_digest;   // the image ID
  std::string platform;
  std::vector<StoredLayer> layers;
  std::string canonical_config_digest; // the image ID after normalize (with canonical)
};

// Reads every layer once (two cores: the stored hash and the canonical pass run side by side),
// checks each blob against its descriptor and each diff_id against the config.
ImageIdentities digest_image(const ImageStore& store, const Image& image, bool canonical,
                             const normalize::NormalizeOptions& options);

// Writes the normalised image: every layer normalised (and verified on the way), the config
// rewritten as canonical_config says.
WrittenImage normalize_image(const ImageStore& store, const Image& image, const normalize::NormalizeOptions& options,
                             ImageTarget target, normalize::Report& report);

} // namespace reproimg::image
