// The registry image store: documents and blobs through registry::BlobCache, prefetched in parallel.
#include "image/registry_store.hpp"

#include "registry/cache.hpp"
#include "registry/client.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <sys/stat.h>
#include <thread>

namespace reproimg::image {

namespace {

constexpr unsigned k_parallel_blobs = 4;

// "blobs/sha256/HEX" or "manifests/sha256/HEX" -> "sha256:HEX".
std::string digest_of_path(const std::string& path, const char* prefix)
{
  const std::string p = prefix;
  return path.rfind(p, 0) == 0 ? "sha256:" + path.substr(p.size()) : std::string();
}

} // namespace

RegistryStore::RegistryStore(registry::Reference ref) : m_ref(std::move(ref))
{
  auto& client = registry::Client::for_pull(m_ref);
  m_manifest = client.get_manifest(m_ref.repository, m_ref.manifest_reference()).bytes;
}

bool RegistryStore::exists(const std::string& path) const
{
  return path == "manifest.json" || !digest_of_path(path, "blobs/sha256/").empty() ||
         !digest_of_path(path, "manifests/sha256/").empty();
}

RegistryStore::~RegistryStore()
{
  m_stop = true;
  for (auto& t : m_workers) t.join();
}

std::optional<registry::CachedBlob> RegistryStore::known(const std::string& digest) const
{
  const std::lock_guard lock(m_mutex);
  const auto it = m_blobs.find(digest);
  if (it == m_blobs.end()) return std::nullopt;
  return it->second;
}

std::string RegistryStore::local(const std::string& path, std::optional<std::uint64_t> size) const
{
  auto& client = registry::Client::for_pull(m_ref);
  auto& cache = registry::BlobCache::instance();
  if (const std::string d = digest_of_path(path, "blobs/sha256/"); !d.empty()) {
    if (const auto b = known(d)) {
      if (b->growing) b->growing->wait_done();
      return b->path;
    }
    return cache.blob(client, m_ref.repository, d, size);
  }
  if (const std::string d = digest_of_path(path, "manifests/sha256/"); !d.empty()) {
    return cache.manifest(client, m_ref.repository, d);
  }
  throw util::Error(util::Location::of(describe(path)), "not in a registry image");
}

std::string RegistryStore::read_small(const std::string& path, std::uint64_t max_size) const
{
  if (path == "manifest.json") {
    return m_manifest;
  }
  const std::string file = local(path, std::nullopt);
  if (size_of(path) > max_size) {
    throw util::Error(util::Location::of(describe(path)), "too large for a JSON document");
  }
  return util::read_file(file);
}

readers::LayerSource RegistryStore::layer_source(const std::string& path) const
{
  if (const std::string d = digest_of_path(path, "blobs/sha256/"); !d.empty()) {
    if (const auto b = known(d)) {
      // Being downloaded: read as it comes. From an earlier run: not hashed here, the read that
      // uses it checks it (and a damaged copy is removed).
      readers::LayerSource source{readers::LayerSource::Kind::tar, b->path};
      source.growing = b->growing;
      if (b->from_earlier_run) {
        source.on_mismatch = [d] { return registry::BlobCache::instance().discard(d); };
      }
      return source;
    }
  }
  return {readers::LayerSource::Kind::tar, local(path, std::nullopt)};
}

std::uint64_t RegistryStore::size_of(const std::string& path) const
{
  if (path == "manifest.json") return m_manifest.size();
  if (const std::string d = digest_of_path(path, "blobs/sha256/"); !d.empty()) {
    // Being downloaded: the size it is checked against before anything reads its end.
    if (const auto b = known(d); b && b->growing) return b->growing->expected_size();
  }
  struct stat st {};
  const std::string file = local(path, std::nullopt);
  if (::stat(file.c_str(), &st) != 0) util::throw_errno("cannot stat", file);
  return static_cast<std::uint64_t>(st.st_size);
}

std::string RegistryStore::describe(const std::string& path) const
{
  const std::string base = "docker://" + m_ref.registry + "/" + m_ref.repository;
  if (path == "manifest.json") return m_ref.display();
  for (const char* prefix : {"blobs/sha256/", "manifests/sha256/"}) {
    if (const std::string d = digest_of_path(path, prefix); !d.empty()) return base + "@" + d;
  }
  return base + ":" + path;
}

std::string RegistryStore::manifest_path(const std::string& digest, const std::string& what) const
{
  return "manifests/sha256/" + blob_path(digest, what).substr(13);
}

void RegistryStore::prefetch(const std::vector<BlobWant>& wanted) const
{
  if (wanted.empty()) return;
  auto& client = registry::Client::for_pull(m_ref);
  auto& cache = registry::BlobCache::instance();
  // The config first, alone and whole: small, and a registry that fails it is given up on before
  // the layers are asked for. Then the layers: those not in the cache are downloaded in the
  // background, several at a time, and each read follows its download.
  local(blob_path(wanted[0].digest, describe("manifest.json")), wanted[0].size);
  auto queue = std::make_shared<std::vector<std::string>>();
  {
    const std::lock_guard lock(m_mutex);
    for (size_t i = 1; i < wanted.size(); ++i) {
      const BlobWant& w = wanted[i];
      blob_path(w.digest, describe("manifest.json")); // a sha256 digest, or an error now
      if (m_blobs.count(w.digest)) continue;
      if (auto found = cache.find(w.digest, w.size)) {
        if (!found->growing) client.note_blob(w.digest, m_ref.repository);
        m_blobs.emplace(w.digest, *found);
        continue;
      }
      m_blobs.emplace(w.digest, cache.reserve(w.digest, w.size));
      queue->push_back(w.digest);
    }
  }
  auto next = std::make_shared<std::atomic<size_t>>(0);
  auto work = [this, queue, next, &client, &cache] {
    for (size_t i = (*next)++; i < queue->size(); i = (*next)++) {
      try {
        cache.fetch(client, m_ref.repository, (*queue)[i], &m_stop);
      } catch (...) {
        // Handed to the blob's readers (util::GrowingFile): the read of the layer reports it.
      }
    }
  };
  const size_t n = std::min<size_t>(k_parallel_blobs, queue->size());
  for (size_t t = 0; t < n; ++t) m_workers.emplace_back(work);
}

std::unique_ptr<ImageStore> open_registry_store(const ImageRef& ref)
{
  return std::make_unique<RegistryStore>(registry::parse_reference(ref.path));
}

Platform host_platform()
{
#if defined(__x86_64__)
  return {"linux", "amd64", ""};
#elif defined(__aarch64__)
  return {"linux", "arm64", ""};
#elif defined(__arm__)
  return {"linux", "arm", ""};
#elif defined(__i386__)
  return {"linux", "386", ""};
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return {"linux", "ppc64le", ""};
#elif defined(__s390x__)
  return {"linux", "s390x", ""};
#elif defined(__riscv) && __riscv_xlen == 64
  return {"linux", "riscv64", ""};
#else
  return {"linux", "amd64", ""};
#endif
}

} // namespace reproimg::image
