// An image in a registry (docker://), read as every other image is: an ImageStore whose
// manifest.json is the manifest the reference names and whose blobs come through the blob cache,
// each verified as it is streamed (layers fetched in parallel when the manifest is read).
#pragma once

#include "image/image_source.hpp"
#include "registry/reference.hpp"

#include <string>

namespace reproimg::image {

class RegistryStore : public ImageStore {
public:
  // Fetches the manifest (or index) the reference names.
  explicit RegistryStore(registry::Reference ref);

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

  registry::Reference m_ref;
  std::string m_manifest; // the bytes the reference names
};

} // namespace reproimg::image
