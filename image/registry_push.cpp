// Push of an OCI layout: blobs in parallel (HEAD, mount, upload; or the commit of an upload begun
// while the image was written), then manifests children first.
#include "image/registry_push.hpp"

#include "digest/sha256.hpp"
#include "image/json.hpp"
#include "image/media_types.hpp"
#include "registry/client.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <utility>

namespace reproimg::image {

namespace {

constexpr unsigned k_parallel_uploads = 4;

} // namespace

// At most k_parallel_uploads early uploads send at once.
struct UploadSlots {
  std::mutex mutex;
  std::condition_variable freed;
  unsigned used = 0;

  void acquire()
  {
    std::unique_lock lock(mutex);
    freed.wait(lock, [&] { return used < k_parallel_uploads; });
    ++used;
  }
  void release()
  {
    {
      const std::lock_guard lock(mutex);
      --used;
    }
    freed.notify_one();
  }
};

struct EarlyUploads::Upload {
  util::Fd fd;
  std::thread thread;
  // Set by the thread:
  bool present = false;
  std::string location; // of the session holding the bytes; cleared once committed or cancelled
  std::exception_ptr error;
};

EarlyUploads::EarlyUploads(registry::Reference dest)
    : m_dest(std::move(dest)), m_client(&registry::Client::for_push(m_dest)), m_slots(std::make_unique<UploadSlots>())
{
}

EarlyUploads::~EarlyUploads()
{
  for (auto& [digest, u] : m_uploads) {
    if (u->thread.joinable()) u->thread.join();
    if (!u->location.empty()) m_client->cancel_upload(m_dest.repository, u->location);
  }
}

StagedBlob EarlyUploads::hook()
{
  return [this](const std::string& file, const std::string& digest, std::uint64_t size) { stage(file, digest, size); };
}

void EarlyUploads::stage(const std::string& file, const std::string& digest, std::uint64_t size)
{
  const std::lock_guard lock(m_mutex);
  if (m_uploads.count(digest)) return;
  auto u = std::make_unique<Upload>();
  u->fd = util::open_read(file);
  Upload* up = u.get();
  up->thread = std::thread([this, up, file, digest, size] {
    m_slots->acquire();
    try {
      registry::Client& client = *m_client;
      up->present = client.blob_exists(m_dest.repository, digest);
      if (!up->present) {
        const auto from = client.repository_holding(digest);
        up->present = from && *from != m_dest.repository && client.mount_blob(m_dest.repository, digest, *from);
      }
      if (!up->present) up->location = client.send_upload(m_dest.repository, digest, file, up->fd.get(), size);
    } catch (...) {
      up->error = std::current_exception();
    }
    m_slots->release();
  });
  m_uploads.emplace(digest, std::move(u));
}

EarlyUploads::Outcome EarlyUploads::commit(const std::string& digest)
{
  Upload* u = nullptr;
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_uploads.find(digest);
    if (it == m_uploads.end()) return Outcome::not_staged;
    u = it->second.get();
  }
  if (u->thread.joinable()) u->thread.join(); // commit is called once per digest, by one thread
  if (u->error) return Outcome::not_staged;
  if (u->present) return Outcome::present;
  if (u->location.empty()) return Outcome::not_staged;
  const std::string location = std::exchange(u->location, std::string());
  return m_client->commit_upload(m_dest.repository, location, digest)
             ? Outcome::committed
             : Outcome::not_staged;
}

namespace {

struct Pusher {
  std::string dir;
  registry::Reference dest;
  registry::Client& client;
  EarlyUploads* early;
  PushResult result;
  std::mutex mutex;

  std::string blob_file(const std::string& digest) const
  {
    if (!digest::is_sha256_digest(digest)) {
      throw util::Error(util::Location::of(dir), "unsupported digest '" + util::printable(digest) + "'");
    }
    return dir + "/blobs/sha256/" + digest.substr(7);
  }

  Json document(const std::string& digest, std::string& bytes) const
  {
    bytes = util::read_file(blob_file(digest));
    if (digest::sha256_digest(bytes) != digest) {
      throw util::Error(util::Location::of(blob_file(digest)), "content differs from its digest");
    }
    return Json::parse(bytes);
  }

  void push_blob(const std::string& digest, std::uint64_t size)
  {
    const std::string file = blob_file(digest);
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) != size) {
      throw util::Error(util::Location::of(file), "missing, or not of the descriptor's size");
    }
    const EarlyUploads::Outcome outcome = early ? early->commit(digest) : EarlyUploads::Outcome::not_staged;
    if (outcome != EarlyUploads::Outcome::not_staged) {
      const std::lock_guard lock(mutex);
      (outcome == EarlyUploads::Outcome::present ? result.blobs_present : result.blobs_uploaded) += 1;
      return;
    }
    bool present = client.blob_exists(dest.repository, digest);
    if (!present) {
      const auto from = client.repository_holding(digest);
      present = from && *from != dest.repository && client.mount_blob(dest.repository, digest, *from);
    }
    if (!present) client.upload_blob(dest.repository, digest, file, size);
    const std::lock_guard lock(mutex);
    (present ? result.blobs_present : result.blobs_uploaded) += 1;
  }

  void push_blobs(const std::vector<std::pair<std::string, std::uint64_t>>& blobs)
  {
    std::atomic<size_t> next{0};
    std::vector<std::exception_ptr> errors(blobs.size());
    auto work = [&] {
      for (size_t i = next++; i < blobs.size(); i = next++) {
        try {
          push_blob(blobs[i].first, blobs[i].second);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      }
    };
    std::vector<std::thread> threads;
    for (size_t t = 1; t < std::min<size_t>(k_parallel_uploads, blobs.size()); ++t) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    for (const auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
  }

  // Pushes what descriptor d names (its blobs, its children), then d itself by reference.
  void push_manifest(const Json& d, const std::string& reference, int depth)
  {
    if (depth > 4) throw util::Error(util::Location::of(dir), "indexes nested too deeply");
    const std::string digest = d.at("digest").get<std::string>();
    const std::string media_type = d.at("mediaType").get<std::string>();
    std::string bytes;
    const Json m = document(digest, bytes);
    if (m.contains("manifests") && m["manifests"].is_array()) {
      for (const auto& child : m["manifests"]) push_manifest(child, child.at("digest").get<std::string>(), depth + 1);
    } else {
      std::vector<std::pair<std::string, std::uint64_t>> blobs;
      blobs.emplace_back(m.at("config").at("digest").get<std::string>(),
                         m.at("config").at("size").get<std::uint64_t>());
      for (const auto& l : m.at("layers")) {
        blobs.emplace_back(l.at("digest").get<std::string>(), l.at("size").get<std::uint64_t>());
      }
      push_blobs(blobs);
    }
    client.put_manifest(dest.repository, reference, bytes, media_type);
  }
};

} // namespace

PushResult push_layout(const std::string& dir, const registry::Reference& dest, EarlyUploads* early)
{
  const Json index = Json::parse(util::read_file(dir + "/index.json"));
  if (!index.contains("manifests") || !index["manifests"].is_array() || index["manifests"].size() != 1) {
    throw util::Error(util::Location::of(dir + "/index.json"), "not one image to push");
  }
  const Json& top = index["manifests"][0];
  Pusher p{dir, dest, registry::Client::for_push(dest), early, {}, {}};
  p.result.digest = top.at("digest").get<std::string>();
  if (!dest.digest.empty() && dest.digest != p.result.digest) {
    throw util::Error(util::Location::of(dest.display()),
                      "the image's manifest digest is " + p.result.digest + ": push by tag, or name that digest");
  }
  try {
    p.push_manifest(top, dest.digest.empty() ? dest.tag : dest.digest, 0);
  } catch (const Json::exception& e) {
    throw util::Error(util::Location::of(dir), std::string("a document of the image to push: ") + e.what());
  }
  p.result.reference =
      dest.registry + "/" + dest.repository + (dest.digest.empty() ? ":" + dest.tag : "") + "@" + p.result.digest;
  return p.result;
}

} // namespace reproimg::image
