// The content-addressed blob cache: blobs (and manifests named by digest) pulled from registries,
// stored as blobs/sha256/HEX under $XDG_CACHE_HOME/reproimg (else ~/.cache/reproimg), each written
// to a temporary file beside its place, checked (digest and size), and renamed. A layer may be read
// while it is written (util::GrowingFile); a cached layer is checked by the read that uses it, a
// document (config, manifest) is hashed when it is taken. Two runs that share the cache write the
// same bytes under the same name: the last rename wins, harmlessly. Every run holds a shared lock
// on the cache; eviction (least recently used first, down to $REPROIMG_CACHE_MAX) needs it alone.
#pragma once

#include "registry/client.hpp"
#include "util/growing_file.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace reproimg::util {
class TempDir;
}

namespace reproimg::registry {

enum class CacheMode { shared, private_to_run };

// How a blob taken from the cache is checked: hashed now (documents: small), or by the read that
// uses it, which checks its digest and size anyway (layers: one hash per use, not two).
enum class BlobCheck { hash_now, by_reader };

// A blob of the cache: whole there (growing is null), or being downloaded to path.
struct CachedBlob {
  std::string path;
  std::shared_ptr<util::GrowingFile> growing;
  bool from_earlier_run = false; // not checked by this run yet (BlobCheck::by_reader)
};

// What an eviction did.
struct PruneResult {
  std::uint64_t removed_blobs = 0;
  std::uint64_t removed_bytes = 0;
  std::uint64_t kept_blobs = 0;
  std::uint64_t kept_bytes = 0;
};

class BlobCache {
public:
  // The cache every command uses, as configure_cache() set it.
  static BlobCache& instance();
  explicit BlobCache(std::string dir);
  ~BlobCache();

  // The path of the blob digest (of size, when known) of repository, whole and checked as check
  // says: from the cache, or fetched (its digest and size checked as it comes) and stored. Throws
  // util::Error naming the blob when the registry's bytes are not what the digest says; nothing is
  // stored then.
  std::string blob(Client& client, const std::string& repository, const std::string& digest,
                   std::optional<std::uint64_t> size, BlobCheck check = BlobCheck::hash_now);
  // The blob when it is in the cache with that size (its use noted for eviction), or being
  // downloaded by this run; else nullopt. Nothing is hashed.
  std::optional<CachedBlob> find(const std::string& digest, std::uint64_t size);
  // Registers the download of a blob find() did not find and returns it, not yet begun: fetch()
  // runs it. A blob already being downloaded is returned as it is (fetch then does nothing).
  CachedBlob reserve(const std::string& digest, std::uint64_t size);
  // Runs the download reserve() registered (on the caller's thread; readers of the blob follow it
  // as it grows). A failure is handed to its readers, and thrown. stop, when set, ends it early.
  void fetch(Client& client, const std::string& repository, const std::string& digest,
             const std::atomic<bool>* stop = nullptr);
  // A cached blob whose read found other bytes: removed; returns what the error adds.
  std::string discard(const std::string& digest);
  // A manifest by digest, from the cache or the registry (stored after its digest was checked).
  std::string manifest(Client& client, const std::string& repository, const std::string& digest);

  // Removes the least recently used blobs (and leftovers of runs that died) until the cache holds
  // at most max_bytes. Needs the cache alone: throws util::Error when another run uses it.
  PruneResult prune(std::uint64_t max_bytes);
  // After a run: when it added blobs to the shared cache and no other run uses it, prunes to
  // $REPROIMG_CACHE_MAX. Never throws: the run's answer is given already.
  void evict_after_run() noexcept;

  const std::string& dir() const { return m_dir; }
  std::string path_of(const std::string& digest) const;

private:
  bool usable(const std::string& path, const std::string& digest, std::optional<std::uint64_t> size, BlobCheck check);
  bool verified(const std::string& digest);
  void mark_verified(const std::string& digest);
  void hold_shared();
  std::shared_ptr<util::GrowingFile> fetching(const std::string& digest);
  void download(Client& client, const std::string& repository, const std::string& digest, util::GrowingFile& growing,
                const std::atomic<bool>* stop);
  std::string m_dir;
  std::mutex m_mutex;
  std::set<std::string> m_verified; // digests checked (or fetched) by this run: not hashed again
  std::map<std::string, std::shared_ptr<util::GrowingFile>> m_fetching; // reserved, not yet done
  std::set<std::string> m_running;                                      // of m_fetching: those a thread runs
  std::uint64_t m_added = 0;                                            // bytes this run stored
  int m_lock_fd = -1; // the shared lock on DIR/.lock, held until the run ends
  bool m_unlockable = false; // a read-only cache: no lock to take
  std::unique_ptr<util::TempDir> m_private;
  friend void configure_cache(CacheMode mode);
};

// Where the shared cache is: $XDG_CACHE_HOME/reproimg, else $HOME/.cache/reproimg.
std::string default_cache_dir();
void configure_cache(CacheMode mode);
// The size bound of the shared cache: $REPROIMG_CACHE_MAX (bytes, or with K, M, G, T: binary
// units), default 10 GiB.
std::uint64_t cache_max_bytes();
// "10G", "512M", "1073741824", "0": bytes. Throws util::Error naming what for anything else.
std::uint64_t parse_size(const std::string& text, const std::string& what);
// Runs BlobCache::evict_after_run on the cache this process configured, if any.
void evict_cache_after_run() noexcept;

} // namespace reproimg::registry
