// Rootfs -> canonical layer -> config -> manifest -> index, written atomically.
#include "image/import.hpp"

#include "image/config_changes.hpp"

namespace reproimg::image {

ImportResult import_rootfs(const readers::LayerSource& source, const ImportOptions& options, const std::string& out,
                           normalize::Report& report)
{
  // Config changes are checked before any work is done.
  Json config_section = Json::object();
  for (const auto& change : options.changes) {
    apply_change(config_section, change);
  }
  ImageTarget target;
  target.format = options.format;
  target.out = out;
  target.tag = options.tag;
  target.repo_tags = options.repo_tags;
  target.platform = options.platform;
  target.epoch = options.layer.policy.epoch;
  target.staged_blob = options.staged_blob;
  ImageWriter writer(target);
  const normalize::LayerResult& layer = writer.add_layer(source, options.layer, report);

  // The config: created is E, the one history entry too.
  const std::string created = rfc3339(options.layer.policy.epoch);
  Json config = Json::object();
  set_config_platform(config, options.platform);
  config["created"] = created;
  config["config"] = config_section;
  Json history = {{"created", created}, {"created_by", "reproimg import"}};
  if (!options.message.empty()) {
    history["comment"] = options.message;
  }
  config["history"] = Json::array({history});

  ImportResult r;
  r.diff_id = layer.diff_id;
  r.layer_digest = layer.blob_digest;
  r.layer_size = layer.blob_size;
  const WrittenImage written = writer.finish(config);
  r.manifest_digest = written.manifest_digest;
  r.config_digest = written.config_digest;
  return r;
}

} // namespace reproimg::image
