// The OCI distribution API of one registry: manifests and blobs read and written, with the
// registry's authentication (anonymous, Basic, Bearer tokens), redirects followed without
// credentials to another host, and bounded retries with backoff on 429, 5xx and dropped
// connections.
#pragma once

#include "registry/auth.hpp"
#include "registry/http.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace reproimg::registry {

// How reproimg talks to registries; set once per command (cli), read by every client.
struct ClientOptions {
  TlsVerify tls_verify = TlsVerify::yes; // --tls-verify=false: also plain HTTP when HTTPS is not spoken
  std::string cert_dir;                  // --cert-dir; empty: /etc/containers/certs.d/REG, /etc/docker/certs.d/REG
  std::optional<Credentials> creds;      // --creds; else the auth files
  unsigned attempts = 5;                 // tries of one request before giving up ($REPROIMG_REGISTRY_ATTEMPTS)
};
void configure(const ClientOptions& options);
const ClientOptions& client_options();

// The media types a manifest is asked for with: OCI and Docker schema 2, images and indexes/lists.
extern const char* const k_manifest_accept;

struct Manifest {
  std::string bytes;
  std::string media_type; // the response's Content-Type, parameters dropped
  std::string digest;     // sha256 of bytes
};

// What a blob transfer writes to: restart() before each attempt (a retry starts over), then the
// bytes as they come (write may throw to stop the transfer).
struct BlobSink {
  std::function<void()> restart;
  std::function<void(const char* data, size_t size)> write;
};

enum class Access { pull, push };

class Client {
public:
  // The client of a registry ("docker.io", "localhost:5000"), one per process, shared by threads.
  static Client& of(const std::string& registry);
  explicit Client(std::string registry);
  ~Client();

  // By tag or digest; a digest reference is checked against the bytes. At most 8 MiB.
  Manifest get_manifest(const std::string& repository, const std::string& reference);
  void get_blob(const std::string& repository, const std::string& digest, const BlobSink& sink);

  bool blob_exists(const std::string& repository, const std::string& digest);
  // Cross-repository mount (POST ?mount=&from=); true when the registry mounted it.
  bool mount_blob(const std::string& repository, const std::string& digest, const std::string& from);
  // Uploads a file as the blob digest: one PUT when small, else one streamed PATCH then the PUT.
  void upload_blob(const std::string& repository, const std::string& digest, const std::string& file,
                   std::uint64_t size);
  // An upload in two steps, for bytes sent before it is known whether they are wanted: the bytes
  // of fd (file names it) go in one streamed PATCH, and the upload's location is returned; then
  // commit_upload (the PUT ?digest=, where the registry checks the digest; false when the session
  // is gone and the blob must be uploaded again) or cancel_upload (DELETE; nothing is stored).
  std::string send_upload(const std::string& repository, const std::string& digest, const std::string& file,
                          int fd, std::uint64_t size);
  bool commit_upload(const std::string& repository, const std::string& location, const std::string& digest);
  void cancel_upload(const std::string& repository, const std::string& location) noexcept;
  // PUT of a manifest by tag or digest; returns the digest the registry gives (or ours).
  std::string put_manifest(const std::string& repository, const std::string& reference, const std::string& bytes,
                           const std::string& media_type);

  // Where this process read a blob from on this registry (for a cross-repository mount).
  std::optional<std::string> repository_holding(const std::string& digest) const;
  void note_blob(const std::string& digest, const std::string& repository);

  const std::string& registry() const { return m_registry; }

private:
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  enum class Body { keep, stream };

  Response send(Request request, const std::string& repository, const std::vector<std::string>& scopes,
                const std::string& what, const std::function<void()>& restart = {});
  std::string start_upload(const std::string& repository, const std::string& what);
  Response put_upload(const std::string& repository, const std::string& location, const std::string& digest,
                      const std::string& file, std::uint64_t size);
  Response send_authorized(const Request& request, const std::string& repository,
                           const std::vector<std::string>& scopes);
  Response send_following(Request request, const std::string& authorization);
  std::string authorization(const std::string& repository, const std::vector<std::string>& scopes, bool refresh);
  std::string fetch_token(const std::string& repository, const std::vector<std::string>& scopes);
  void ping();
  std::optional<Credentials> credentials(const std::string& repository);
  std::string url(const std::string& path) const;
  [[noreturn]] void fail(const std::string& repository, const std::string& what, const Response& response) const;
  std::unique_ptr<Session> borrow();
  void give_back(std::unique_ptr<Session> session);

  std::string m_registry;
  TlsSettings m_tls;
  mutable std::mutex m_mutex; // guards what follows
  std::string m_scheme;       // "https" or "http", decided by the first request
  std::optional<Challenge> m_challenge;
  std::map<std::string, Token> m_tokens;                           // by scope list
  std::map<std::string, std::optional<Credentials>> m_credentials; // by repository
  std::vector<std::unique_ptr<Session>> m_sessions;
  std::map<std::string, std::string> m_blob_homes; // digest -> repository
};

// The message of a registry's JSON error body: "CODE: message" of its first error, or "".
std::string registry_error_code(const std::string& body);
// The seconds a Retry-After header asks for (delta-seconds or an HTTP date), capped at 60.
std::optional<double> retry_after_seconds(const std::string& value);

} // namespace reproimg::registry
