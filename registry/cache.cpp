// The blob cache: lookups verified, fetches streamed into a temporary file and renamed into place.
#include "registry/cache.hpp"

#include "digest/sha256.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"
#include "util/spool.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

namespace reproimg::registry {

namespace {

std::unique_ptr<BlobCache>& the_cache()
{
  static std::unique_ptr<BlobCache> cache;
  return cache;
}

void make_dirs(const std::string& path)
{
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = path.find('/', pos + 1);
    const std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      util::throw_errno("cannot create the cache directory", part);
    }
  }
}

std::string file_sha256(const std::string& path)
{
  util::Fd fd = util::open_read(path);
  digest::Sha256 hash;
  std::vector<unsigned char> buffer(1 << 20);
  while (true) {
    const size_t n = util::read_full(fd.get(), buffer.data(), buffer.size(), path);
    if (n == 0) break;
    hash.update(buffer.data(), n);
  }
  return hash.finish_digest();
}

// A temporary file in the cache's directory, removed unless renamed into place.
class TempBlob {
public:
  explicit TempBlob(const std::string& dir)
  {
    std::string templ = dir + "/.tmp-XXXXXX";
    const util::InterruptDeferral defer;
    const int fd = ::mkstemp(templ.data());
    if (fd < 0) util::throw_errno("cannot create a file in the cache", dir);
    m_fd = util::Fd(fd);
    m_path = templ;
    m_registration = util::register_temp_path(m_path, util::TempKind::file);
  }
  ~TempBlob()
  {
    const util::InterruptDeferral defer;
    if (!m_path.empty()) ::unlink(m_path.c_str());
    util::unregister_temp_path(m_registration);
  }
  TempBlob(const TempBlob&) = delete;
  TempBlob& operator=(const TempBlob&) = delete;
  int fd() const { return m_fd.get(); }
  const std::string& path() const { return m_path; }
  void rename_to(const std::string& target)
  {
    m_fd.close(m_path);
    const util::InterruptDeferral defer;
    if (::rename(m_path.c_str(), target.c_str()) != 0) util::throw_errno("cannot store in the cache", target);
    m_path.clear();
  }

private:
  util::Fd m_fd;
  std::string m_path;
  int m_registration = -1;
};

} // namespace

std::string default_cache_dir()
{
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && x[0] == '/') return std::string(x) + "/reproimg";
  const char* home = std::getenv("HOME");
  if (!home || !*home) throw util::Error("no cache directory: set XDG_CACHE_HOME or HOME, or use --no-cache");
  return std::string(home) + "/.cache/reproimg";
}

void configure_cache(CacheMode mode)
{
  if (mode == CacheMode::shared) {
    the_cache() = std::make_unique<BlobCache>(default_cache_dir());
    return;
  }
  auto dir = std::make_unique<util::TempDir>(util::temp_directory() + "/reproimg-blobs.");
  the_cache() = std::make_unique<BlobCache>(dir->path());
  the_cache()->m_private = std::move(dir);
}

BlobCache& BlobCache::instance()
{
  if (!the_cache()) configure_cache(CacheMode::shared);
  return *the_cache();
}

BlobCache::BlobCache(std::string dir) : m_dir(std::move(dir)) {}

BlobCache::~BlobCache() = default;

std::string BlobCache::path_of(const std::string& digest) const
{
  if (!digest::is_sha256_digest(digest)) {
    throw util::Error("unsupported digest '" + util::printable(digest) + "' (reproimg reads sha256)");
  }
  return m_dir + "/blobs/sha256/" + digest.substr(7);
}

bool BlobCache::verified(const std::string& digest)
{
  const std::lock_guard lock(m_mutex);
  return m_verified.count(digest) > 0;
}

void BlobCache::mark_verified(const std::string& digest)
{
  const std::lock_guard lock(m_mutex);
  m_verified.insert(digest);
}

bool BlobCache::usable(const std::string& path, const std::string& digest, std::optional<std::uint64_t> size)
{
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (size && static_cast<std::uint64_t>(st.st_size) != *size) return false;
  // Hashed once per run: the store asks for a blob's path several times (its size, its first
  // bytes, the layer read, which checks the digest again as it reads).
  if (verified(digest)) return true;
  if (file_sha256(path) == digest) {
    mark_verified(digest);
    return true;
  }
  ::unlink(path.c_str()); // damaged: fetched again
  return false;
}

std::string BlobCache::blob(Client& client, const std::string& repository, const std::string& digest,
                            std::optional<std::uint64_t> size)
{
  const std::string path = path_of(digest);
  if (usable(path, digest, size)) {
    client.note_blob(digest, repository);
    return path;
  }
  const std::string dir = path.substr(0, path.rfind('/'));
  make_dirs(dir);
  TempBlob temp(dir);
  std::unique_ptr<digest::Sha256> hash;
  std::uint64_t received = 0;
  std::unique_ptr<util::FdSink> sink;
  const std::string where = "docker://" + client.registry() + "/" + repository + "@" + digest;
  BlobSink target;
  target.restart = [&] {
    if (::ftruncate(temp.fd(), 0) != 0 || ::lseek(temp.fd(), 0, SEEK_SET) != 0) {
      util::throw_errno("cannot rewind", temp.path());
    }
    hash = std::make_unique<digest::Sha256>();
    received = 0;
    sink = std::make_unique<util::FdSink>(temp.fd(), temp.path());
  };
  target.write = [&](const char* data, size_t n) {
    received += n;
    if (size && received > *size) {
      throw util::Error(util::Location::of(where),
                        "the registry sent more than the descriptor's " + std::to_string(*size) + " bytes");
    }
    hash->update(data, n);
    sink->write(data, n);
  };
  client.get_blob(repository, digest, target);
  sink->finish();
  if (size && received != *size) {
    throw util::Error(util::Location::of(where), "the registry sent " + std::to_string(received) +
                                                     " bytes, not the descriptor's " + std::to_string(*size));
  }
  const std::string actual = hash->finish_digest();
  if (actual != digest) {
    throw util::Error(util::Location::of(where), "the registry's bytes have the content digest " + actual +
                                                     ": not the blob asked for (nothing cached)");
  }
  temp.rename_to(path);
  mark_verified(digest);
  return path;
}

std::string BlobCache::manifest(Client& client, const std::string& repository, const std::string& digest)
{
  const std::string path = path_of(digest);
  if (usable(path, digest, std::nullopt)) return path;
  const Manifest m = client.get_manifest(repository, digest); // checked against digest
  const std::string dir = path.substr(0, path.rfind('/'));
  make_dirs(dir);
  TempBlob temp(dir);
  util::write_all(temp.fd(), m.bytes.data(), m.bytes.size(), temp.path());
  temp.rename_to(path);
  return path;
}

} // namespace reproimg::registry
