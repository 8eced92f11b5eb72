// libcurl under the registry client: one easy handle per session, headers and bodies captured,
// uploads read from a file range, failures sorted into what may be retried.
#include "registry/http.hpp"

#include "util/error.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <curl/curl.h>
#include <exception>
#include <mutex>

namespace reproimg::registry {

namespace {

constexpr size_t k_max_error_body = 1 << 20;

void global_init()
{
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const Request* request = nullptr;
  Response* response = nullptr;
  util::Fd body_fd;
  std::uint64_t sent = 0;
  std::exception_ptr error;
  bool body_started = false;
};

std::string lower(std::string s)
{
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s)
{
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

size_t on_header(char* data, size_t size, size_t count, void* user)
{
  auto* t = static_cast<Transfer*>(user);
  const std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear(); // a 100 Continue before the real status
    const auto sp = line.find(' ');
    t->response->status = sp == std::string::npos ? 0 : std::strtol(line.c_str() + sp + 1, nullptr, 10);
    return size * count;
  }
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    t->response->headers.emplace(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user)
{
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  const long status = t->response->status;
  if (status >= 200 && status < 300 && t->request->on_data) {
    try {
      if (!t->body_started) {
        t->body_started = true;
        if (t->request->on_body_start) t->request->on_body_start(*t->response);
      }
      t->request->on_data(data, n);
    } catch (...) {
      t->error = std::current_exception();
      return 0; // stops the transfer
    }
    return n;
  }
  if (t->response->body.size() < k_max_error_body || (status >= 200 && status < 300)) {
    t->response->body.append(data, n);
  }
  return n;
}

size_t on_read(char* buffer, size_t size, size_t count, void* user)
{
  auto* t = static_cast<Transfer*>(user);
  const Request& r = *t->request;
  const std::uint64_t total = r.body_file.empty() ? r.body.size() : r.body_size;
  const size_t n = static_cast<size_t>(std::min<std::uint64_t>(size * count, total - t->sent));
  if (n == 0) return 0;
  try {
    if (r.body_file.empty()) {
      std::copy_n(r.body.data() + t->sent, n, buffer);
    } else {
      util::pread_exact(r.body_fd >= 0 ? r.body_fd : t->body_fd.get(), buffer, n, r.body_offset + t->sent, r.body_file);
    }
  } catch (...) {
    t->error = std::current_exception();
    return CURL_READFUNC_ABORT;
  }
  t->sent += n;
  return n;
}

int on_seek(void* user, curl_off_t offset, int origin)
{
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  t->sent = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

void set_method(CURL* h, const Request& r, Transfer& t)
{
  const bool has_body = !r.body_file.empty() || !r.body.empty() || r.method == "PUT" || r.method == "PATCH";
  if (r.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (r.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (r.method == "POST" && !has_body) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
  } else if (r.method == "DELETE") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  }
  if (has_body && r.method != "GET" && r.method != "HEAD") {
    if (!r.body_file.empty() && r.body_fd < 0) {
      t.body_fd = util::open_read(r.body_file);
    }
    const std::uint64_t total = r.body_file.empty() ? r.body.size() : r.body_size;
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(total));
    if (r.method != "PUT") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
  }
}

void set_tls(CURL* h, const TlsSettings& tls)
{
  const long verify = tls.verify == TlsVerify::yes ? 1L : 0L;
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
  if (!tls.ca_bundle.empty()) {
    curl_blob blob{const_cast<char*>(tls.ca_bundle.data()), tls.ca_bundle.size(), CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!tls.client_cert.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, tls.client_cert.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, tls.client_key.c_str());
  }
}

[[noreturn]] void throw_transport(CURLcode rc, const char* detail, const Request& r)
{
  const bool tls_verify = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
                          rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_ISSUER_ERROR;
  const bool handshake = rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION;
  std::string message = curl_easy_strerror(rc);
  if (detail[0] != '\0') {
    message += std::string(": ") + detail;
  }
  (void)r;
  // A name that does not resolve stays so for seconds: no point in waiting for it.
  // Nor does a handshake that failed: the peer speaks no TLS, or none we accept.
  const bool final = tls_verify || handshake || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_URL_MALFORMAT;
  throw TransportError(message, final ? Retry::pointless : Retry::worth_it, handshake);
}

} // namespace

std::string Response::header(const std::string& lower_name) const
{
  const auto range = headers.equal_range(lower_name);
  std::string value;
  for (auto it = range.first; it != range.second; ++it) {
    value = it->second;
  }
  return value;
}

Session::Session()
{
  global_init();
  m_curl = curl_easy_init();
  if (!m_curl) {
    throw util::Error("libcurl: cannot create a handle");
  }
}

Session::~Session()
{
  curl_easy_cleanup(static_cast<CURL*>(m_curl));
}

Response Session::perform(const Request& request, const TlsSettings& tls)
{
  CURL* h = static_cast<CURL*>(m_curl);
  curl_easy_reset(h);
  Response response;
  Transfer t;
  t.request = &request;
  t.response = &response;
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall_timeout_seconds());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "reproimg");
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024); // fewer, larger writes of a blob
  curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
  set_tls(h, tls);
  set_method(h, request, t);
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");
  for (const auto& header : request.headers) {
    headers = curl_slist_append(headers, header.c_str());
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, nullptr);
  if (t.error) {
    std::rethrow_exception(t.error);
  }
  if (rc != CURLE_OK) {
    throw_transport(rc, error, request);
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = status;
  return response;
}

long stall_timeout_seconds()
{
  if (const char* v = std::getenv("REPROIMG_REGISTRY_TIMEOUT")) {
    const long n = std::strtol(v, nullptr, 10);
    if (n > 0 && n <= 3600) return n;
  }
  return 60;
}

std::string origin_of(const std::string& url)
{
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  const auto host_end = url.find_first_of("/?#", scheme_end + 3);
  std::string origin = lower(url.substr(0, host_end));
  // The default ports are the same origin as none.
  if (origin.rfind("https://", 0) == 0 && origin.size() > 4 && origin.compare(origin.size() - 4, 4, ":443") == 0) {
    origin.resize(origin.size() - 4);
  } else if (origin.rfind("http://", 0) == 0 && origin.size() > 3 && origin.compare(origin.size() - 3, 3, ":80") == 0) {
    origin.resize(origin.size() - 3);
  }
  return origin;
}

std::string resolve_url(const std::string& base, const std::string& location)
{
  if (location.find("://") != std::string::npos) {
    return location;
  }
  const auto scheme_end = base.find("://");
  const auto host_end = base.find('/', scheme_end + 3);
  const std::string root = base.substr(0, host_end);
  if (location.rfind("//", 0) == 0) {
    return base.substr(0, scheme_end + 1) + location;
  }
  if (!location.empty() && location[0] == '/') {
    return root + location;
  }
  const std::string path =
      host_end == std::string::npos ? "/" : base.substr(host_end, base.find('?', host_end) - host_end);
  return root + path.substr(0, path.rfind('/') + 1) + location;
}

std::string url_encode(const std::string& value)
{
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

} // namespace reproimg::registry
