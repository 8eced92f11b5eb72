// The blob cache: lookups verified, fetches streamed into a temporary file and renamed into place.
#include "registry/cache.hpp"

#include "digest/sha256.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"
#include "util/spool.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
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

// Notes a use of a cached blob for eviction (least recently used first). A cache on a read-only
// file system is still read: a failure is no error.
void touch(const std::string& path)
{
  (void)::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
}

void check_download(const std::string& where, const std::string& digest, std::optional<std::uint64_t> size,
                    std::uint64_t received, const std::string& actual)
{
  if (size && received != *size) {
    throw util::Error(util::Location::of(where), "the registry sent " + std::to_string(received) +
                                                     " bytes, not the descriptor's " + std::to_string(*size));
  }
  if (actual != digest) {
    throw util::Error(util::Location::of(where), "the registry's bytes have the content digest " + actual +
                                                     ": not the blob asked for (nothing cached)");
  }
}

struct CacheFile {
  std::string path;
  std::uint64_t size = 0;
  struct timespec mtime {};
};

// The files of blobs/sha256 (blobs, and the temporary files of runs that died), least recently
// used first (ties by name: the order never depends on the directory's).
std::vector<CacheFile> cache_files(const std::string& dir)
{
  std::vector<CacheFile> out;
  const std::string blobs = dir + "/blobs/sha256";
  DIR* d = ::opendir(blobs.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    util::throw_errno("cannot list the cache", blobs);
  }
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    const std::string path = blobs + "/" + name;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back({path, static_cast<std::uint64_t>(st.st_size), st.st_mtim});
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const CacheFile& a, const CacheFile& b) {
    if (a.mtime.tv_sec != b.mtime.tv_sec) return a.mtime.tv_sec < b.mtime.tv_sec;
    if (a.mtime.tv_nsec != b.mtime.tv_nsec) return a.mtime.tv_nsec < b.mtime.tv_nsec;
    return a.path < b.path;
  });
  return out;
}

} // namespace

std::uint64_t parse_size(const std::string& text, const std::string& what)
{
  const auto bad = [&] {
    return util::Error(util::Location::of(what),
                       "'" + util::printable(text) + "' is not a size (bytes, or a number with K, M, G or T)");
  };
  size_t i = 0;
  std::uint64_t n = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (n > (UINT64_MAX - 9) / 10) throw bad();
    n = n * 10 + static_cast<std::uint64_t>(text[i] - '0');
  }
  if (i == 0) throw bad();
  std::string unit = text.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && (unit.substr(1) == "IB" || unit.substr(1) == "B")) unit = unit.substr(0, 1);
  static const std::string k_units = "KMGT";
  if (unit.empty() || unit == "B") return n;
  const size_t power = k_units.find(unit);
  if (unit.size() != 1 || power == std::string::npos) throw bad();
  for (size_t p = 0; p <= power; ++p) {
    if (n > UINT64_MAX / 1024) throw bad();
    n *= 1024;
  }
  return n;
}

std::uint64_t cache_max_bytes()
{
  const char* v = std::getenv("REPROIMG_CACHE_MAX");
  if (!v || !*v) return std::uint64_t{10} << 30;
  return parse_size(v, "$REPROIMG_CACHE_MAX");
}

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
    (void)cache_max_bytes(); // a bad bound is an error now, not a silent one after the run
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

BlobCache::~BlobCache()
{
  if (m_lock_fd >= 0) ::close(m_lock_fd);
}

void BlobCache::hold_shared()
{
  const std::lock_guard lock(m_mutex);
  if (m_private || m_lock_fd >= 0 || m_unlockable) return;
  make_dirs(m_dir);
  const std::string lock_path = m_dir + "/.lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 && (errno == EACCES || errno == EROFS)) fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && (errno == EACCES || errno == EROFS || errno == ENOENT)) {
    m_unlockable = true; // a cache this user may only read: read, never pruned by this run
    return;
  }
  if (fd < 0) util::throw_errno("cannot open the cache's lock", lock_path);
  // Waits only while another run prunes (a few file removals).
  while (::flock(fd, LOCK_SH) != 0) {
    if (errno != EINTR) {
      ::close(fd);
      util::throw_errno("cannot lock the cache", lock_path);
    }
  }
  m_lock_fd = fd;
}

PruneResult BlobCache::prune(std::uint64_t max_bytes)
{
  PruneResult result;
  if (!util::is_directory(m_dir)) return result;
  const std::string lock_path = m_dir + "/.lock";
  const bool own = m_lock_fd < 0;
  const int fd = own ? ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644) : m_lock_fd;
  if (fd < 0) util::throw_errno("cannot open the cache's lock", lock_path);
  util::Fd owned(own ? fd : -1);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      throw util::Error(util::Location::of(m_dir),
                        "the blob cache is in use by another reproimg run: nothing removed (try again when it ends)");
    }
    util::throw_errno("cannot lock the cache", lock_path);
  }
  std::vector<CacheFile> files = cache_files(m_dir);
  std::uint64_t total = 0;
  for (const auto& f : files) total += f.size;
  for (const auto& f : files) {
    const bool leftover = f.path.find("/.tmp-") != std::string::npos; // of a run that died
    if (leftover || total > max_bytes) {
      if (::unlink(f.path.c_str()) != 0 && errno != ENOENT) util::throw_errno("cannot remove", f.path);
      total -= f.size;
      result.removed_blobs += leftover ? 0 : 1;
      result.removed_bytes += f.size;
    } else {
      result.kept_blobs += 1;
      result.kept_bytes += f.size;
    }
  }
  if (!own) (void)::flock(fd, LOCK_SH);
  return result;
}

void BlobCache::evict_after_run() noexcept
{
  if (m_private || m_added == 0) return;
  try {
    prune(cache_max_bytes());
  } catch (...) {
    // Another run uses the cache: it evicts when it ends (if it added), or the next run does.
  }
}

void evict_cache_after_run() noexcept
{
  if (the_cache()) the_cache()->evict_after_run();
}

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

bool BlobCache::usable(const std::string& path, const std::string& digest, std::optional<std::uint64_t> size,
                       BlobCheck check)
{
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (size && static_cast<std::uint64_t>(st.st_size) != *size) return false;
  touch(path);
  // Hashed once per run, and only when asked: a layer's read checks its digest as it reads.
  if (check == BlobCheck::by_reader || verified(digest)) return true;
  if (file_sha256(path) == digest) {
    mark_verified(digest);
    return true;
  }
  ::unlink(path.c_str()); // damaged: fetched again
  return false;
}

std::string BlobCache::blob(Client& client, const std::string& repository, const std::string& digest,
                            std::optional<std::uint64_t> size, BlobCheck check)
{
  hold_shared();
  const std::string path = path_of(digest);
  if (std::shared_ptr<util::GrowingFile> running = fetching(digest)) {
    running->wait_done();
    return path;
  }
  if (usable(path, digest, size, check)) {
    client.note_blob(digest, repository);
    return path;
  }
  reserve(digest, size.value_or(0));
  fetch(client, repository, digest); // or waits for the thread that runs it
  return path;
}

std::shared_ptr<util::GrowingFile> BlobCache::fetching(const std::string& digest)
{
  const std::lock_guard lock(m_mutex);
  const auto it = m_fetching.find(digest);
  return it == m_fetching.end() ? nullptr : it->second;
}

std::optional<CachedBlob> BlobCache::find(const std::string& digest, std::uint64_t size)
{
  hold_shared();
  const std::string path = path_of(digest);
  if (std::shared_ptr<util::GrowingFile> running = fetching(digest)) {
    return CachedBlob{path, running, false};
  }
  if (!usable(path, digest, size, BlobCheck::by_reader)) return std::nullopt;
  return CachedBlob{path, nullptr, !verified(digest)};
}

CachedBlob BlobCache::reserve(const std::string& digest, std::uint64_t size)
{
  hold_shared();
  const std::string path = path_of(digest);
  const std::lock_guard lock(m_mutex);
  auto& slot = m_fetching[digest];
  if (!slot) slot = std::make_shared<util::GrowingFile>(size);
  return CachedBlob{path, slot, false};
}

void BlobCache::fetch(Client& client, const std::string& repository, const std::string& digest,
                      const std::atomic<bool>* stop)
{
  std::shared_ptr<util::GrowingFile> growing;
  bool mine = false;
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_fetching.find(digest);
    if (it == m_fetching.end()) return;
    growing = it->second;
    mine = m_running.insert(digest).second;
  }
  if (!mine) {
    growing->wait_done(); // another thread runs it: its outcome is this one's
    return;
  }
  auto done = [&] {
    const std::lock_guard lock(m_mutex);
    m_fetching.erase(digest);
    m_running.erase(digest);
  };
  try {
    download(client, repository, digest, *growing, stop);
  } catch (...) {
    growing->fail(std::current_exception()); // also a failure before the download began
    done();
    throw;
  }
  done();
}

std::string BlobCache::discard(const std::string& digest)
{
  const std::string path = path_of(digest);
  ::unlink(path.c_str());
  return " (the copy in the blob cache " + path + " was damaged and is removed: run the command again to fetch it)";
}

// Streams the blob into a temporary file beside its place, the digest and size checked as it
// comes; readers follow the file as it grows. A retry asks for the bytes after those the file holds
// (Range); a registry that sends the whole blob again has the bytes the file holds passed over, so
// that a reader never sees the file change under it.
void BlobCache::download(Client& client, const std::string& repository, const std::string& digest,
                         util::GrowingFile& growing, const std::atomic<bool>* stop)
{
  const std::string path = path_of(digest);
  const std::string where = "docker://" + client.registry() + "/" + repository + "@" + digest;
  const std::optional<std::uint64_t> size =
      growing.expected_size() ? std::optional<std::uint64_t>(growing.expected_size()) : std::nullopt;
  const std::string dir = path.substr(0, path.rfind('/'));
  make_dirs(dir);
  TempBlob temp(dir);
  std::uint64_t written = 0; // bytes in the file (and hashed)
  try {
    growing.started(temp.path());
    digest::Sha256 hash;
    std::uint64_t seen = 0; // bytes of this attempt
    BlobSink target;
    target.restart = [&] { seen = 0; };
    // A retry asks for the bytes after those in the file (none when it holds them all: the
    // transfer then failed at its very end, and the registry would refuse an empty range).
    target.held = [&] { return size && written >= *size ? std::uint64_t{0} : written; };
    target.resume = [&](std::uint64_t offset) { seen = offset; };
    target.write = [&](const char* data, size_t n) {
      if (stop && stop->load()) throw util::Error(util::Location::of(where), "download stopped");
      const std::uint64_t at = seen;
      seen += n;
      if (seen <= written) return; // sent again after a retry: in the file already
      const size_t skip = static_cast<size_t>(written > at ? written - at : 0);
      data += skip;
      n -= skip;
      if (size && written + n > *size) {
        throw util::Error(util::Location::of(where),
                          "the registry sent more than the descriptor's " + std::to_string(*size) + " bytes");
      }
      hash.update(data, n);
      util::write_all(temp.fd(), data, n, temp.path());
      written += n;
      growing.grew(written);
    };
    client.get_blob(repository, digest, target);
    check_download(where, digest, size, written, hash.finish_digest());
    growing.finish([&] {
      temp.rename_to(path);
      return path;
    });
  } catch (...) {
    growing.fail(std::current_exception()); // before the temporary file goes
    throw;
  }
  mark_verified(digest);
  const std::lock_guard lock(m_mutex);
  m_added += written;
}

std::string BlobCache::manifest(Client& client, const std::string& repository, const std::string& digest)
{
  hold_shared();
  const std::string path = path_of(digest);
  if (usable(path, digest, std::nullopt, BlobCheck::hash_now)) return path;
  const Manifest m = client.get_manifest(repository, digest); // checked against digest
  const std::string dir = path.substr(0, path.rfind('/'));
  make_dirs(dir);
  TempBlob temp(dir);
  util::write_all(temp.fd(), m.bytes.data(), m.bytes.size(), temp.path());
  temp.rename_to(path);
  return path;
}

} // namespace reproimg::registry
