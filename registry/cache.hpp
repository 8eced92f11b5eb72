// The content-addressed blob cache: blobs (and manifests named by digest) pulled from registries,
// stored as blobs/sha256/HEX under $XDG_CACHE_HOME/reproimg (else ~/.cache/reproimg), each written
// to a temporary file beside its place, verified, and renamed; verified again when used. Two runs
// that share it write the same bytes under the same name: the last rename wins, harmlessly.
#pragma once

#include "registry/client.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace reproimg::util {
class TempDir;
}

namespace reproimg::registry {

enum class CacheMode { shared, private_to_run }; // --no-cache: a directory of this run's own, removed at its end

class BlobCache {
public:
  // The cache every command uses, as configure_cache() set it.
  static BlobCache& instance();
  explicit BlobCache(std::string dir);
  ~BlobCache();

  // The path of the blob digest (of size, when known) of repository, verified: from the cache, or
  // fetched (streamed to a temporary file, its digest and size checked as it comes) and stored.
  // Throws util::Error naming the blob when the registry's bytes are not what the digest says;
  // nothing is stored then.
  std::string blob(Client& client, const std::string& repository, const std::string& digest,
                   std::optional<std::uint64_t> size);
  // A manifest by digest, from the cache or the registry (stored after its digest was checked).
  std::string manifest(Client& client, const std::string& repository, const std::string& digest);

  const std::string& dir() const { return m_dir; }
  std::string path_of(const std::string& digest) const;

private:
  bool usable(const std::string& path, const std::string& digest, std::optional<std::uint64_t> size);
  bool verified(const std::string& digest);
  void mark_verified(const std::string& digest);
  std::string m_dir;
  std::mutex m_mutex;
  std::set<std::string> m_verified; // digests checked (or fetched) by this run: not hashed again
  std::unique_ptr<util::TempDir> m_private;
  friend void configure_cache(CacheMode mode);
};

// Where the shared cache is: $XDG_CACHE_HOME/reproimg, else $HOME/.cache/reproimg.
std::string default_cache_dir();
void configure_cache(CacheMode mode);

} // namespace reproimg::registry
