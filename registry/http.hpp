// One HTTP exchange over libcurl: a request (its body a string or a byte range of a file), the
// response's status, headers and body (or the body streamed to a callback), TLS as configured.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace reproimg::registry {

enum class TlsVerify { yes, no };
// Whether a transport failure is worth another attempt (a dropped connection, a timeout) or not
// (a certificate that does not verify, a name that does not resolve... is still retried: it is the
// registry's answer that decides; only TLS verification is final).
enum class Retry { worth_it, pointless };

struct TlsSettings {
  TlsVerify verify = TlsVerify::yes;
  std::string ca_bundle;   // PEM: the system's CAs and those of the cert dir; empty: curl's default
  std::string client_cert; // a PEM file (HOST.cert in a cert dir), or empty
  std::string client_key;
};

// A failure below HTTP: no connection, a connection dropped, a timeout, a TLS failure.
class TransportError : public std::runtime_error {
public:
  TransportError(const std::string& message, Retry retry, bool tls_handshake)
      : std::runtime_error(message), m_retry(retry), m_tls(tls_handshake)
  {
  }
  Retry retry() const { return m_retry; }
  // The TLS handshake failed (the peer may speak plain HTTP).
  bool tls_handshake() const { return m_tls; }

private:
  Retry m_retry;
  bool m_tls;
};

struct Response;

struct Request {
  std::string method = "GET"; // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string url;
  std::vector<std::string> headers; // "Name: value"
  std::string body;                 // sent when body_file is empty
  std::string body_file;            // else bytes [body_offset, body_offset + body_size) of this file
  int body_fd = -1;                 // when >= 0, that file open already (the caller's; body_file names it)
  std::uint64_t body_offset = 0;
  std::uint64_t body_size = 0;
  // When set, the body of a 2xx response goes here, not to Response::body. It may throw: the
  // transfer stops and perform() rethrows.
  std::function<void(const char* data, size_t size)> on_data;
  // When set, called once before the first byte of a 2xx response's body goes to on_data, with
  // its status and headers (a 206's Content-Range). It may throw, as on_data may.
  std::function<void(const Response& response)> on_body_start;
};

struct Response {
  long status = 0;
  std::multimap<std::string, std::string> headers; // names in lower case
  std::string body;                                // at most 1 MiB kept for a non-2xx response
  // The last value of a header, or "".
  std::string header(const std::string& lower_name) const;
};

// A connection (kept alive between requests) to whatever hosts the requests name; not shared
// between threads.
class Session {
public:
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  // Does not follow redirects. Throws TransportError below HTTP, and what on_data throws.
  Response perform(const Request& request, const TlsSettings& tls);

private:
  void* m_curl;
};

// Seconds without a byte before a transfer is given up ($REPROIMG_REGISTRY_TIMEOUT, default 60).
long stall_timeout_seconds();

// "scheme://host[:port]" of a URL, lower-cased host: what decides whether credentials go along.
std::string origin_of(const std::string& url);
// location resolved against base (absolute, "/path" or relative).
std::string resolve_url(const std::string& base, const std::string& location);
// Percent-encodes a query value.
std::string url_encode(const std::string& value);

} // namespace reproimg::registry
