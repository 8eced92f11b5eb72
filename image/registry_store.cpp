// The registry image store: documents and blobs through registry::BlobCache, prefetched in parallel.
#include "image/registry_store.hpp"

#include "registry/cache.hpp"
#include "registry/client.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

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

std::string RegistryStore::local(const std::string& path, std::optional<std::uint64_t> size) const
{
  auto& client = registry::Client::for_pull(m_ref);
  auto& cache = registry::BlobCache::instance();
  if (const std::string d = digest_of_path(path, "blobs/sha256/"); !d.empty()) {
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
  return {readers::LayerSource::Kind::tar, local(path, std::nullopt)};
}

std::uint64_t RegistryStore::size_of(const std::string& path) const
{
  if (path == "manifest.json") return m_manifest.size();
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
  // The config first, alone: small, and a registry that fails it is given up on before the
  // layers are asked for. Then the layers, several at a time.
  local(blob_path(wanted[0].digest, describe("manifest.json")), wanted[0].size);
  const std::vector<BlobWant> blobs(wanted.begin() + 1, wanted.end());
  std::atomic<size_t> next{0};
  std::vector<std::exception_ptr> errors(blobs.size());
  auto work = [&] {
    for (size_t i = next++; i < blobs.size(); i = next++) {
      try {
        local(blob_path(blobs[i].digest, describe("manifest.json")), blobs[i].size);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  const size_t n = std::min<size_t>(k_parallel_blobs, blobs.size());
  for (size_t t = 1; t < n; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e); // the first blob's failure, whatever the threads' timing
  }
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
