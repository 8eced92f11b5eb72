// An image in a registry (docker://), read as every other image is: an ImageStore whose
// manifest.json is the manifest the reference names and whose blobs come through the blob cache,
// each verified as it is streamed. Layers are fetched in parallel, in the background, from when
// the manifest is read; a layer's read follows its download as it grows.
#pragma once

#include "image/image_source.hpp"
#include "registry/reference.hpp"

#include "registry/cache.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace reproimg::image {

class RegistryStore : public ImageStore {
public:
  // Fetches the manifest (or index) the reference names.
  explicit RegistryStore(registry::Reference ref);
  // Stops the downloads no read waits for, and waits for them to end.
  ~RegistryStore() override;
  RegistryStore(const RegistryStore&) = delete;
  RegistryStore& operator=(const RegistryStore&) = delete;

  bool exists(const std::string& path) const override;
  std::string read_small(const std::string& path, std::uint64_t max_size) const override;
  readers::LayerSource layer_source(const std::string& path) const override;
  std::uint64_t size_of(const std::string& path) const override;
  std::string describe(const std::string& path) const override;
  std::string manifest_path(const std::string& digest, const std::string& what) const override;
  void prefetch(const std::vector<BlobWant>& blobs) const override;

  const registry::Reference& reference() const { return m_ref; }

private:
  // The cached file of a blob or manifest path, fetched when missing.
  std::string local(const std::string& path, std::optional<std::uint64_t> size) const;
  // The blob of a layer path as this store has it: downloading (prefetch), or in the cache.
  std::optional<registry::CachedBlob> known(const std::string& digest) const;

  registry::Reference m_ref;
  std::string m_manifest;                                      // the bytes the reference names
  mutable std::mutex m_mutex;                                  // guards m_blobs
  mutable std::map<std::string, registry::CachedBlob> m_blobs; // layers prefetch() found or began
  mutable std::vector<std::thread> m_workers;                  // the downloads prefetch() began
  mutable std::atomic<bool> m_stop{false};
};

} // namespace reproimg::image
