// The OCI distribution API of one registry: manifests and blobs read and written, with the
// registry's authentication (anonymous, Basic, Bearer tokens), redirects followed without
// credentials to another host, and bounded retries with backoff on 429, 5xx and dropped
// connections.
#pragma once

#include "registry/auth.hpp"
#include "registry/http.hpp"
#include "registry/reference.hpp"
#include "registry/registries_conf.hpp"

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

// The settings of one side of a command: what it reads (--src-*) or what it pushes (--dest-*);
// the plain --creds, --tls-verify and --cert-dir fill both sides.
struct AccessOptions {
  std::optional<TlsVerify> tls_verify; // given on the command line: wins over registries.conf's insecure
  std::string cert_dir;                // empty: /etc/containers/certs.d/HOST, /etc/docker/certs.d/HOST
  std::optional<Credentials> creds;    // else the auth files
  std::string auth_file;               // --authfile: read in place of $REGISTRY_AUTH_FILE's
};

// How reproimg talks to registries; set once per command (cli). Each access (a reference read or
// pushed) gets a client of its own side's settings and of the registries.conf entry of its name,
// so that one registry can be read with one user's credentials and written with another's.
struct ClientOptions {
  AccessOptions pull;    // what a command reads: FROM, normalize's input (--src-*)
  AccessOptions push;    // what it writes to: -o docker://REF (--dest-*)
  // Tries of one request before giving up: --retry-times N gives N + 1; else
  // $REPROIMG_REGISTRY_ATTEMPTS (1-20); else 5.
  std::optional<unsigned> attempts;
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
// bytes as they come (write may throw to stop the transfer). A sink that keeps what it was given
// may say so with held(): a retry then asks for the rest only (an HTTP Range request), and when
// the registry answers with those bytes, resume(offset) says where they begin (the registry may
// also send the whole blob again: then they begin at 0, as after restart()).
struct BlobSink {
  std::function<void()> restart;
  std::function<void(const char* data, size_t size)> write;
  std::function<std::uint64_t()> held;                  // may be empty: every attempt from 0
  std::function<void(std::uint64_t offset)> resume;     // set with held
};

enum class Access { pull, push };

// What one host is spoken to with: the TLS verification, the cert dir, the credentials given.
struct EndpointSettings {
  TlsVerify tls_verify = TlsVerify::yes;
  std::string cert_dir;
  std::optional<Credentials> creds;
  std::string auth_file;
};

class Client {
public:
  // The client of a reference's registry for reading (ref.registry and ref.repository as the
  // reference names them): its registries.conf entry's location and mirrors, the pull side's
  // settings. Throws util::Error for a registry that registries.conf blocks. Shared by threads;
  // the same for every reference of one entry and settings.
  static Client& for_pull(const Reference& ref);
  // The same for pushing: the location only, never a mirror; the push side's settings.
  static Client& for_push(const Reference& ref);
  Client(std::string host, EndpointSettings settings);
  ~Client();

  // The methods below take a repository as the reference names it (before registries.conf's
  // remapping). By tag or digest; a digest reference is checked against the bytes. At most 8 MiB.
  Manifest get_manifest(const std::string& repository, const std::string& reference);
  void get_blob(const std::string& repository, const std::string& digest, const BlobSink& sink);

  bool blob_exists(const std::string& repository, const std::string& digest);
  // Cross-repository mount (POST ?mount=&from=, from as repository_holding gives it); true when
  // the registry mounted it.
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

  // Where this process read a blob from on this client's host, a repository there (for a
  // cross-repository mount), whichever client read it.
  std::optional<std::string> repository_holding(const std::string& digest) const;
  void note_blob(const std::string& digest, const std::string& repository);

  // The host requests go to (registries.conf's location), e.g. "localhost:5000".
  const std::string& registry() const { return m_registry; }

private:
  struct Mirror {
    Client* client;
    std::string location;
    PullFromMirror pull_from;
  };
  // Where a request for a repository goes: a client and the repository on its host.
  struct Source {
    Client* client;
    std::string repository;
  };
  static Client& for_access(const Reference& ref, Access access);
  // The repository on this client's host of a repository as the reference names it.
  std::string local_repository(const std::string& named) const;
  std::vector<Source> pull_sources(const std::string& named, const std::string& reference);
  void chose(const std::string& named, const Source& source);
  Manifest fetch_manifest(const std::string& repository, const std::string& reference);
  void fetch_blob(const std::string& repository, const std::string& digest, const BlobSink& sink);

  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  enum class Body { keep, stream };

  Response send(Request request, const std::string& repository, const std::vector<std::string>& scopes,
                const std::string& what, const std::function<void(Request&)>& prepare = {});
  std::string start_upload(const std::string& repository, const std::string& what);
  void cancel_session(const std::string& repository, const std::string& location) noexcept;
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

  std::string m_registry; // the host
  EndpointSettings m_settings;
  TlsSettings m_tls;
  // Set by for_pull and for_push: the reference's registry, its registries.conf entry, the mirrors.
  std::string m_named_registry;
  std::optional<RegistryEntry> m_entry;
  std::vector<Mirror> m_mirrors;
  mutable std::mutex m_mutex; // guards what follows
  std::string m_scheme;       // "https" or "http", decided by the first request
  std::optional<Challenge> m_challenge;
  std::map<std::string, Token> m_tokens;                           // by scope list
  std::map<std::string, std::optional<Credentials>> m_credentials; // by repository
  std::vector<std::unique_ptr<Session>> m_sessions;
  std::map<std::string, Source> m_chosen; // named repository -> where its first manifest came from
};

// The message of a registry's JSON error body: "CODE: message" of its first error, or "".
std::string registry_error_code(const std::string& body);
// The seconds a Retry-After header asks for (delta-seconds or an HTTP date), capped at 60.
std::optional<double> retry_after_seconds(const std::string& value);

} // namespace reproimg::registry
