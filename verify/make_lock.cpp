// Making a lock: each layer read once (verified as read), files flattened through the overlay.
#include "verify/make_lock.hpp"

#include "digest/chain_id.hpp"
#include "digest/sha256.hpp"
#include "image/image_normalize.hpp"
#include "image/image_source.hpp"
#include "util/error.hpp"

#include <algorithm>

namespace reproimg::verify {

namespace {

std::string platform_of(const image::Json& config)
{
  std::string s = config.value("os", "") + "/" + config.value("architecture", "");
  if (config.contains("variant") && config["variant"].is_string() && !config["variant"].get<std::string>().empty()) {
    s += "/" + config["variant"].get<std::string>();
  }
  return s;
}

LockedImage lock_image(const image::ImageStore& store, const image::Image& img, const LockOptions& options)
{
  LockedImage out;
  out.platform = platform_of(img.config);
  out.manifest_media_type = img.manifest_media_type;
  out.manifest_digest = img.manifest_digest;
  // Parsed by load_image already; kept as a document (null when there is none).
  out.manifest = img.manifest_bytes.empty() ? image::Json(nullptr) : image::Json::parse(img.manifest_bytes, nullptr, false);
  if (out.manifest.is_discarded()) out.manifest = nullptr;
  out.config_digest = img.config_digest;
  out.config_size = img.config_bytes.size();
  out.config = img.config;
  out.created = img.config.contains("created") && img.config["created"].is_string() ? img.config["created"].get<std::string>() : "";
  Indexes indexes;
  std::vector<std::string> canonical_ids;
  for (size_t i = 0; i < img.layers.size(); ++i) {
    const LayerPass pass = read_layer(image::checked_layer_source(store, img, i), options.policy, options.files,
                                      static_cast<int>(i), options.progress, indexes);
    LockedLayer l;
    l.media_type = img.layers[i].media_type;
    l.compression = pass.compression;
    l.digest = img.layers[i].digest;
    l.size = img.layers[i].size;
    l.diff_id = i < img.diff_ids.size() ? img.diff_ids[i] : "";
    l.canonical_diff_id = pass.canonical_diff_id;
    canonical_ids.push_back(pass.canonical_diff_id);
    out.layers.push_back(l);
  }
  std::vector<std::string> diff_ids;
  for (const auto& l : out.layers) diff_ids.push_back(l.diff_id);
  const auto chains = digest::chain_ids(diff_ids);
  for (size_t i = 0; i < out.layers.size(); ++i) out.layers[i].chain_id = chains[i];
  out.canonical_config_digest = digest::sha256_digest(
      image::canonical_json(image::canonical_config(img.config, canonical_ids, options.policy.epoch)));
  if (options.files == FileList::read) out.files = locked_files(indexes);
  return out;
}

Lock lock_images(const image::ImageRef& ref, const LockOptions& options)
{
  Lock lock;
  lock.kind = InputKind::image;
  lock.policy = options.policy;
  const auto store = image::ImageStore::open(ref);
  std::vector<std::optional<image::Platform>> platforms;
  if (options.platform) {
    platforms.push_back(options.platform);
  } else {
    for (const auto& p : image::list_platforms(*store, ref)) platforms.emplace_back(p);
  }
  if (platforms.empty()) platforms.emplace_back(std::nullopt);
  for (const auto& p : platforms) {
    lock.images.push_back(lock_image(*store, image::load_image(*store, ref, p), options));
  }
  std::sort(lock.images.begin(), lock.images.end(),
            [](const LockedImage& a, const LockedImage& b) { return a.platform < b.platform; });
  return lock;
}

Lock lock_layer(const std::string& spec, const LockOptions& options)
{
  Lock lock;
  lock.policy = options.policy;
  const readers::LayerSource source = readers::parse_layer_source(spec);
  lock.kind = source.kind == readers::LayerSource::Kind::directory ? InputKind::rootfs : InputKind::layer;
  Indexes indexes;
  const LayerPass pass = read_layer(source, options.policy, options.files, 0, options.progress, indexes);
  LockedImage img;
  LockedLayer l;
  l.compression = pass.compression;
  l.digest = pass.blob_digest;
  l.size = pass.blob_size;
  l.diff_id = pass.diff_id;
  l.chain_id = pass.diff_id; // the ChainID of a lone layer is its diff_id
  l.canonical_diff_id = pass.canonical_diff_id;
  img.layers.push_back(l);
  if (options.files == FileList::read) img.files = locked_files(indexes);
  lock.images.push_back(std::move(img));
  return lock;
}

} // namespace

std::vector<LockedFile> locked_files(const Indexes& indexes)
{
  const diff::Tree tree = diff::flatten(indexes, "lock");
  std::vector<LockedFile> files;
  files.reserve(tree.records.size());
  for (const diff::FileRecord* r : tree.records) {
    if (r->type != readers::EntryType::socket) files.push_back(locked_of_record(*r));
  }
  // printable() may reorder paths with odd bytes: sorted again, and the first of equals kept.
  std::stable_sort(files.begin(), files.end(), [](const LockedFile& a, const LockedFile& b) { return a.path < b.path; });
  files.erase(std::unique(files.begin(), files.end(), [](const LockedFile& a, const LockedFile& b) { return a.path == b.path; }),
              files.end());
  return files;
}

Lock make_lock(const std::string& spec, const LockOptions& options)
{
  readers::refuse_unread_transport(spec);
  if (const auto ref = image::parse_image_ref(spec)) {
    return lock_images(*ref, options);
  }
  return lock_layer(spec, options);
}

} // namespace reproimg::verify
