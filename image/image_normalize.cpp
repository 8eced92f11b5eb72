// Image-level digest and normalise.
#include "image/image_normalize.hpp"

#include "digest/chain_id.hpp"
#include "digest/sha256.hpp"
#include "readers/raw_stream.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/parallel.hpp"


namespace reproimg::image {

namespace {

// The stored identities of layer i, checked against the manifest and the config.
StoredLayer read_stored(const ImageStore& store, const Image& image, size_t i)
{
  const LayerRef& l = image.layers[i];
  const readers::StreamDigests d = readers::digest_layer(checked_layer_source(store, image, i));
  StoredLayer s;
  s.media_type = l.media_type;
  s.compression = d.compression;
  s.blob_digest = d.blob_digest;
  s.size = d.blob_size;
  s.diff_id = d.diff_id;
  s.note = readers::ending_note(d.ending);
  s.warnings = d.warnings;
  return s;
}

std::string platform_of(const Json& config)
{
  std::string s = config.value("os", "?") + "/" + config.value("architecture", "?");
  if (config.contains("variant") && config["variant"].is_string()) {
    s += "/" + config["variant"].get<std::string>();
  }
  return s;
}

} // namespace

Json canonical_config(Json config, const std::vector<std::string>& diff_ids, std::int64_t epoch)
{
  const std::string created = rfc3339(epoch);
  if (config.contains("created")) {
    config["created"] = created;
  }
  if (config.contains("history") && config["history"].is_array()) {
    for (auto& h : config["history"]) {
      if (h.is_object() && h.contains("created")) {
        h["created"] = created;
      }
    }
  }
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  return config;
}

ImageIdentities digest_image(const ImageStore& store, const Image& image, bool canonical,
                             const normalize::NormalizeOptions& options)
{
  ImageIdentities ids;
  ids.manifest_digest = image.manifest_digest;
  ids.config_digest = image.config_digest;
  ids.platform = platform_of(image.config);
  std::vector<std::string> canonical_ids;
  for (size_t i = 0; i < image.layers.size(); ++i) {
    StoredLayer stored;
    std::string canon;
    if (canonical) {
      util::run_both([&] { stored = read_stored(store, image, i); },
               [&] {
                 normalize::NormalizeOptions o = options;
                 o.compute_digests = true;
                 o.compression = normalize::Compression::none;
                 normalize::Report report;
                 // read_stored checks the blob meanwhile: the canonical answer waits for it.
                 canon = normalize::normalize_layer(store.layer_source(image.layers[i].path), o, nullptr, report).diff_id;
               });
    } else {
      stored = read_stored(store, image, i);
    }
    stored.canonical_diff_id = canon;
    canonical_ids.push_back(canon);
    ids.layers.push_back(stored);
  }
  std::vector<std::string> diff_ids;
  for (const auto& l : ids.layers) {
    diff_ids.push_back(l.diff_id);
  }
  const auto chains = digest::chain_ids(diff_ids);
  for (size_t i = 0; i < ids.layers.size(); ++i) {
    ids.layers[i].chain_id = chains[i];
  }
  if (canonical) {
    ids.canonical_config_digest =
        digest::sha256_digest(canonical_json(canonical_config(image.config, canonical_ids, options.policy.epoch)));
  }
  return ids;
}

WrittenImage normalize_image(const ImageStore& store, const Image& image, const normalize::NormalizeOptions& options,
                             ImageTarget target, normalize::Report& report)
{
  target.epoch = options.policy.epoch;
  if (target.platform.os.empty() || image.config.contains("os")) {
    target.platform.os = image.config.value("os", "linux");
    target.platform.architecture = image.config.value("architecture", "amd64");
    target.platform.variant = image.config.value("variant", "");
  }
  ImageWriter writer(target);
  for (size_t i = 0; i < image.layers.size(); ++i) {
    // The stored layer is checked (digest, size, diff_id) as it is normalised.
    writer.add_layer(checked_layer_source(store, image, i), options, report);
  }
  std::vector<std::string> diff_ids;
  for (const auto& l : writer.layers()) {
    diff_ids.push_back(l.diff_id);
  }
  return writer.finish(canonical_config(image.config, diff_ids, options.policy.epoch));
}

} // namespace reproimg::image
