// The distribution API client: ping and scheme, challenges and tokens, redirects, retries, and the
// manifest and blob requests of pull and push.
#include "registry/client.hpp"

#include "registry/reference.hpp"

#include "digest/sha256.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <ctime>
#include <thread>

namespace reproimg::registry {

namespace {

using Json = nlohmann::json;

constexpr size_t k_max_manifest = 8u << 20;
constexpr std::uint64_t k_monolithic_limit = 32u << 20;

ClientOptions& mutable_options()
{
  static ClientOptions options;
  return options;
}

std::string join_scopes(const std::vector<std::string>& scopes)
{
  std::string s;
  for (const auto& scope : scopes) s += (s.empty() ? "" : " ") + scope;
  return s;
}

// What a push asks a token for: pull and push of the repository.
std::vector<std::string> push_scopes(const std::string& repository)
{
  return {"repository:" + repository + ":pull,push"};
}

bool retryable_status(long status)
{
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

unsigned attempts()
{
  if (const auto& given = mutable_options().attempts) return *given;
  if (const char* v = std::getenv("REPROIMG_REGISTRY_ATTEMPTS")) {
    const long n = std::strtol(v, nullptr, 10);
    if (n >= 1 && n <= 20) return static_cast<unsigned>(n);
  }
  return 5;
}

// Backoff before attempt n + 1 (n from 1): 0.5 s, 1 s, 2 s, 4 s, at most 8 s;
// $REPROIMG_REGISTRY_BACKOFF scales it (tests).
double backoff_seconds(unsigned n)
{
  double scale = 1.0;
  if (const char* v = std::getenv("REPROIMG_REGISTRY_BACKOFF")) scale = std::strtod(v, nullptr);
  return std::min(8.0, 0.5 * std::pow(2.0, static_cast<double>(n - 1))) * std::clamp(scale, 0.0, 1.0);
}

void sleep_seconds(double s)
{
  std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

std::string read_if_file(const std::string& path)
{
  return util::is_regular_file(path) ? util::read_file(path) : std::string();
}

// The TLS settings of a registry: the system CAs plus the *.crt of its cert dir, and a client
// certificate (*.cert with its *.key) when the dir holds one, as containers/image reads it.
TlsSettings tls_for(const std::string& registry, const EndpointSettings& settings)
{
  TlsSettings tls;
  tls.verify = settings.tls_verify;
  std::vector<std::string> dirs;
  if (!settings.cert_dir.empty()) {
    dirs.push_back(settings.cert_dir);
  } else {
    dirs = {"/etc/containers/certs.d/" + registry, "/etc/docker/certs.d/" + registry};
  }
  for (const auto& dir : dirs) {
    if (!util::is_directory(dir)) continue;
    std::string extra;
    for (const auto& name : util::sorted_directory_names(dir)) {
      const auto ends = [&](const std::string& suffix) {
        return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
      };
      if (ends(".crt")) {
        extra += read_if_file(dir + "/" + name) + "\n";
      } else if (ends(".cert") && util::is_regular_file(dir + "/" + name.substr(0, name.size() - 5) + ".key")) {
        tls.client_cert = dir + "/" + name;
        tls.client_key = dir + "/" + name.substr(0, name.size() - 5) + ".key";
      }
    }
    if (!extra.empty()) {
      tls.ca_bundle = read_if_file("/etc/ssl/certs/ca-certificates.crt") + "\n" + extra;
    }
    break;
  }
  return tls;
}

// Where this process read each blob from, per host: digest -> repository (for a cross-repository
// mount by whichever client pushes to that host).
std::map<std::string, std::map<std::string, std::string>>& blob_homes()
{
  static std::map<std::string, std::map<std::string, std::string>> homes;
  return homes;
}

std::mutex& blob_homes_mutex()
{
  static std::mutex mutex;
  return mutex;
}

void note_home(const std::string& host, const std::string& digest, const std::string& repository)
{
  const std::lock_guard lock(blob_homes_mutex());
  blob_homes()[host].emplace(digest, repository);
}

// What tells two clients apart: the host and every setting (the secret by its digest only).
std::string settings_key(const std::string& host, const EndpointSettings& s)
{
  std::string key = host + "\n" + (s.tls_verify == TlsVerify::yes ? "verify" : "no-verify") + "\n" + s.cert_dir +
                    "\n" + s.auth_file;
  if (s.creds) {
    key += "\n" + s.creds->username + "\n" + digest::sha256_digest(s.creds->password + "\n" + s.creds->identity_token);
  }
  return key;
}

// The settings of an endpoint of a side: a verification given on the command line wins over
// registries.conf's insecure.
EndpointSettings settings_for(const AccessOptions& side, Insecure insecure)
{
  EndpointSettings s;
  s.tls_verify = side.tls_verify ? *side.tls_verify : (insecure == Insecure::yes ? TlsVerify::no : TlsVerify::yes);
  s.cert_dir = side.cert_dir;
  s.creds = side.creds;
  s.auth_file = side.auth_file;
  return s;
}

// A name rewritten by an entry to location, parsed: its host and repository.
Reference rewritten(const RegistryEntry& entry, const std::string& location, const std::string& name)
{
  const std::string target = rewrite_name(entry, location, name);
  try {
    return parse_reference(target);
  } catch (const util::Error& e) {
    throw util::Error(util::Location::of_line(entry.source.file, entry.source.line),
                      "registries.conf: '" + util::printable(name) + "' rewritten to '" + util::printable(target) +
                          "': " + e.message());
  }
}

std::string content_type(const Response& r)
{
  std::string t = r.header("content-type");
  t = t.substr(0, t.find(';'));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

} // namespace

const char* const k_manifest_accept = "Accept: application/vnd.oci.image.manifest.v1+json, "
                                      "application/vnd.oci.image.index.v1+json, "
                                      "application/vnd.docker.distribution.manifest.v2+json, "
                                      "application/vnd.docker.distribution.manifest.list.v2+json";

void configure(const ClientOptions& options)
{
  mutable_options() = options;
}

const ClientOptions& client_options()
{
  return mutable_options();
}

std::string registry_error_code(const std::string& body)
{
  try {
    const Json doc = Json::parse(body);
    if (doc.is_object() && doc.contains("errors") && doc["errors"].is_array() && !doc["errors"].empty()) {
      const Json& e = doc["errors"][0];
      std::string s = e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
      if (e.contains("message") && e["message"].is_string()) {
        s += (s.empty() ? "" : ": ") + e["message"].get<std::string>();
      }
      return util::printable(s.substr(0, 200));
    }
  } catch (const std::exception&) {
  }
  return "";
}

std::optional<double> retry_after_seconds(const std::string& value)
{
  if (value.empty()) return std::nullopt;
  char* end = nullptr;
  const double s = std::strtod(value.c_str(), &end);
  if (end != value.c_str() && *end == '\0') {
    return std::clamp(s, 0.0, 60.0);
  }
  std::tm tm{};
  if (::strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
    const double delta = std::difftime(::timegm(&tm), std::time(nullptr));
    return std::clamp(delta, 0.0, 60.0);
  }
  return std::nullopt;
}

Client& Client::for_pull(const Reference& ref)
{
  return for_access(ref, Access::pull);
}

Client& Client::for_push(const Reference& ref)
{
  return for_access(ref, Access::push);
}

// One client per registries.conf entry (or registry without one), side settings and direction,
// and one per mirror host and settings; made on first use, kept for the process.
Client& Client::for_access(const Reference& ref, Access access)
{
  const std::string name = ref.registry + "/" + ref.repository;
  const RegistriesConf& conf = registries_conf();
  const RegistryEntry* entry = conf.find(name);
  if (entry && entry->blocked == Blocked::yes) {
    throw util::Error(util::Location::of(ref.display()), "the registry is blocked by " + entry->source.display() +
                                                             " ([[registry]] prefix '" + entry->prefix + "')");
  }
  const AccessOptions& side = access == Access::pull ? mutable_options().pull : mutable_options().push;
  const bool remaps = entry && !entry->location.empty();
  const std::string host = remaps ? rewritten(*entry, entry->location, name).registry : ref.registry;
  const EndpointSettings settings = settings_for(side, entry ? entry->insecure : Insecure::no);
  const bool mirrored = access == Access::pull && entry && !entry->mirrors.empty();
  const std::string key = settings_key(host, settings) + "\n" + ref.registry + "\n" + (entry ? entry->prefix : "") +
                          (mirrored ? "\nmirrored" : "");
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Client>> clients;
  const std::lock_guard lock(mutex);
  auto& c = clients[key];
  if (c) return *c;
  c = std::make_unique<Client>(host, settings);
  c->m_named_registry = ref.registry;
  if (remaps) c->m_entry = *entry;
  if (!mirrored) return *c;
  for (const auto& m : entry->mirrors) {
    const EndpointSettings ms = settings_for(side, m.insecure);
    const std::string mhost = rewritten(*entry, m.location, name).registry;
    auto& mc = clients[settings_key(mhost, ms) + "\nmirror"];
    if (!mc) mc = std::make_unique<Client>(mhost, ms);
    c->m_mirrors.push_back({mc.get(), m.location, m.pull_from});
  }
  c->m_entry = *entry;
  return *c;
}

std::string Client::local_repository(const std::string& named) const
{
  if (!m_entry || m_entry->location.empty()) return named;
  return rewritten(*m_entry, m_entry->location, m_named_registry + "/" + named).repository;
}

// Where a read of a repository goes: the source that gave its first manifest (then the
// location); before that, the mirrors that take this kind of reference, in order, then the
// location.
std::vector<Client::Source> Client::pull_sources(const std::string& named, const std::string& reference)
{
  const Source home{this, local_repository(named)};
  {
    const std::lock_guard lock(m_mutex);
    if (const auto it = m_chosen.find(named); it != m_chosen.end()) {
      if (it->second.client == this) return {home};
      return {it->second, home};
    }
  }
  std::vector<Source> sources;
  const bool by_digest = reference.rfind("sha256:", 0) == 0;
  for (const auto& m : m_mirrors) {
    if ((m.pull_from == PullFromMirror::digest_only && !by_digest) ||
        (m.pull_from == PullFromMirror::tag_only && by_digest)) {
      continue;
    }
    sources.push_back({m.client, rewritten(*m_entry, m.location, m_named_registry + "/" + named).repository});
  }
  sources.push_back(home);
  return sources;
}

void Client::chose(const std::string& named, const Source& source)
{
  const std::lock_guard lock(m_mutex);
  m_chosen.emplace(named, source);
}

Manifest Client::get_manifest(const std::string& named, const std::string& reference)
{
  const std::vector<Source> sources = pull_sources(named, reference);
  for (size_t i = 0;; ++i) {
    try {
      Manifest m = sources[i].client->fetch_manifest(sources[i].repository, reference);
      chose(named, sources[i]);
      return m;
    } catch (const util::IoError&) {
      throw;
    } catch (const util::Error&) {
      if (i + 1 == sources.size()) throw; // the location's error; a mirror's is passed over
    }
  }
}

void Client::get_blob(const std::string& named, const std::string& digest, const BlobSink& sink)
{
  const std::vector<Source> sources = pull_sources(named, digest);
  for (size_t i = 0;; ++i) {
    try {
      sources[i].client->fetch_blob(sources[i].repository, digest, sink);
      return;
    } catch (const util::IoError&) {
      throw;
    } catch (const util::Error&) {
      if (i + 1 == sources.size()) throw;
    }
  }
}

Client::Client(std::string host, EndpointSettings settings)
    : m_registry(std::move(host)), m_settings(std::move(settings)), m_tls(tls_for(m_registry, m_settings))
{
}

Client::~Client() = default;

std::unique_ptr<Session> Client::borrow()
{
  {
    const std::lock_guard lock(m_mutex);
    if (!m_sessions.empty()) {
      auto s = std::move(m_sessions.back());
      m_sessions.pop_back();
      return s;
    }
  }
  return std::make_unique<Session>();
}

void Client::give_back(std::unique_ptr<Session> session)
{
  const std::lock_guard lock(m_mutex);
  m_sessions.push_back(std::move(session));
}

std::string Client::url(const std::string& path) const
{
  return m_scheme + "://" + api_host(m_registry) + path;
}

std::optional<Credentials> Client::credentials(const std::string& repository)
{
  {
    const std::lock_guard lock(m_mutex);
    if (const auto it = m_credentials.find(repository); it != m_credentials.end()) return it->second;
  }
  std::optional<Credentials> c = m_settings.creds ? m_settings.creds : find_credentials(m_registry, repository, m_settings.auth_file);
  const std::lock_guard lock(m_mutex);
  m_credentials[repository] = c;
  return c;
}

void Client::ping()
{
  {
    const std::lock_guard lock(m_mutex);
    if (!m_scheme.empty()) return;
  }
  std::string scheme = "https";
  std::optional<Response> answer;
  for (unsigned attempt = 1; !answer; ++attempt) {
    auto session = borrow();
    Request r;
    r.url = scheme + "://" + api_host(m_registry) + "/v2/";
    try {
      answer = session->perform(r, m_tls);
      give_back(std::move(session));
    } catch (const TransportError& e) {
      if (scheme == "https" && e.tls_handshake() && m_settings.tls_verify == TlsVerify::no) {
        scheme = "http"; // --tls-verify=false: a registry that speaks plain HTTP
        --attempt;
        continue;
      }
      if (e.retry() == Retry::pointless || attempt >= attempts()) {
        const std::string hint = e.tls_handshake() && m_settings.tls_verify == TlsVerify::yes
                                     ? " (a registry with a certificate of its own: --cert-dir DIR; one without TLS: "
                                       "--tls-verify=false)"
                                     : "";
        throw util::Error(util::Location::of("docker://" + m_registry),
                          "cannot reach the registry after " + std::to_string(attempt) +
                              " attempt(s): " + util::printable(e.what()) + hint);
      }
      sleep_seconds(backoff_seconds(attempt));
    }
  }
  const std::lock_guard lock(m_mutex);
  m_scheme = scheme;
  if (answer->status == 401) {
    for (const auto& c : parse_challenges(answer->header("www-authenticate"))) {
      if (c.scheme == "bearer" || c.scheme == "basic") {
        m_challenge = c;
        break;
      }
    }
  }
}

Response Client::send(Request request, const std::string& repository, const std::vector<std::string>& scopes,
                      const std::string& what, const std::function<void(Request&)>& prepare)
{
  ping();
  if (request.url.find("://") == std::string::npos) request.url = url(request.url);
  const unsigned n = attempts();
  for (unsigned attempt = 1;; ++attempt) {
    std::string failure;
    double wait = backoff_seconds(attempt);
    try {
      if (prepare) prepare(request); // before each attempt
      Response r = send_authorized(request, repository, scopes);
      if (!retryable_status(r.status)) return r;
      if (attempt >= n) fail(repository, what + " (gave up after " + std::to_string(n) + " attempts)", r);
      if (const auto after = retry_after_seconds(r.header("retry-after"))) wait = *after;
    } catch (const TransportError& e) {
      failure = util::printable(e.what());
      if (e.retry() == Retry::pointless || attempt >= n) {
        throw util::Error(util::Location::of("docker://" + m_registry + "/" + repository),
                          what + ": " + failure +
                              (attempt > 1 ? " (gave up after " + std::to_string(attempt) + " attempts)" : ""));
      }
    }
    sleep_seconds(wait);
  }
}

Response Client::send_authorized(const Request& request, const std::string& repository,
                                 const std::vector<std::string>& scopes)
{
  std::string auth = authorization(repository, scopes, false);
  Response r = send_following(request, auth);
  if (r.status != 401) return r;
  // A new challenge (the first request of a registry that let /v2/ through), or a token that
  // expired: ask again, once.
  for (const auto& c : parse_challenges(r.header("www-authenticate"))) {
    if (c.scheme == "bearer" || c.scheme == "basic") {
      const std::lock_guard lock(m_mutex);
      m_challenge = c;
      break;
    }
  }
  const std::string again = authorization(repository, scopes, true);
  if (again.empty() || (again == auth && again.rfind("Basic ", 0) == 0)) return r;
  return send_following(request, again);
}

Response Client::send_following(Request request, const std::string& authorization)
{
  const std::string home = origin_of(url("/"));
  for (int hops = 0;; ++hops) {
    Request r = request;
    // Credentials go to the registry only, never to storage a blob is redirected to.
    if (!authorization.empty() && origin_of(r.url) == home) r.headers.push_back("Authorization: " + authorization);
    auto session = borrow();
    Response response = session->perform(r, m_tls);
    give_back(std::move(session));
    const long s = response.status;
    const std::string location = response.header("location");
    if (!(s == 301 || s == 302 || s == 303 || s == 307 || s == 308) || location.empty() || hops >= 5) {
      return response;
    }
    request.url = resolve_url(request.url, location);
    if (s == 303 || ((s == 301 || s == 302) && request.method != "GET" && request.method != "HEAD")) {
      request.method = "GET";
      request.body.clear();
      request.body_file.clear();
      request.body_fd = -1;
    }
  }
}

std::string Client::authorization(const std::string& repository, const std::vector<std::string>& scopes, bool refresh)
{
  std::optional<Challenge> challenge;
  {
    const std::lock_guard lock(m_mutex);
    challenge = m_challenge;
  }
  if (!challenge) return "";
  if (challenge->scheme == "basic") {
    const auto c = credentials(repository);
    return c && !c->username.empty() ? "Basic " + base64_encode(c->username + ":" + c->password) : "";
  }
  const std::string key = join_scopes(scopes);
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_tokens.find(key);
    if (!refresh && it != m_tokens.end() && std::chrono::steady_clock::now() < it->second.expires) {
      return "Bearer " + it->second.value;
    }
  }
  const std::string token = fetch_token(repository, scopes);
  return token.empty() ? "" : "Bearer " + token;
}

// The Bearer flow: GET realm?service=&scope= (Basic credentials when there are some), or with an
// identity token the OAuth2 POST of a refresh token.
std::string Client::fetch_token(const std::string& repository, const std::vector<std::string>& scopes)
{
  Challenge challenge;
  {
    const std::lock_guard lock(m_mutex);
    challenge = *m_challenge;
  }
  const std::string realm = challenge.params["realm"];
  if (realm.rfind("https://", 0) != 0 && realm.rfind("http://", 0) != 0) {
    throw util::Error(util::Location::of("docker://" + m_registry),
                      "the registry's Bearer challenge names no token service (realm '" + util::printable(realm) +
                          "')");
  }
  const auto creds = credentials(repository);
  Request r;
  std::string query;
  if (!challenge.params["service"].empty()) query += "&service=" + url_encode(challenge.params["service"]);
  for (const auto& scope : scopes) query += "&scope=" + url_encode(scope);
  if (creds && !creds->identity_token.empty()) {
    r.method = "POST";
    r.url = realm;
    r.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    r.body = "grant_type=refresh_token&client_id=reproimg&refresh_token=" + url_encode(creds->identity_token) + query;
  } else {
    r.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") + (query.empty() ? "" : query.substr(1));
    if (creds) r.headers.push_back("Authorization: Basic " + base64_encode(creds->username + ":" + creds->password));
  }
  auto session = borrow();
  const Response response = session->perform(r, m_tls);
  give_back(std::move(session));
  if (response.status == 401 || response.status == 403) {
    throw util::Error(util::Location::of("docker://" + m_registry + "/" + repository),
                      "the token service refused " +
                          std::string(creds ? "the credentials from " + creds->source : "anonymous access") +
                          " (HTTP " + std::to_string(response.status) + ")");
  }
  if (response.status != 200) {
    throw TransportError("token service: HTTP " + std::to_string(response.status), Retry::worth_it, false);
  }
  Json doc;
  try {
    doc = Json::parse(response.body);
  } catch (const std::exception&) {
    throw util::Error(util::Location::of("docker://" + m_registry), "the token service's answer is not JSON");
  }
  std::string token;
  for (const char* key : {"token", "access_token"}) {
    if (doc.is_object() && doc.contains(key) && doc[key].is_string() && !doc[key].get<std::string>().empty()) {
      token = doc[key].get<std::string>();
      break;
    }
  }
  if (token.empty()) {
    throw util::Error(util::Location::of("docker://" + m_registry), "the token service's answer holds no token");
  }
  long lifetime = 60;
  if (doc.contains("expires_in") && doc["expires_in"].is_number_integer())
    lifetime = std::max(doc["expires_in"].get<long>(), 10L);
  const std::lock_guard lock(m_mutex);
  m_tokens[join_scopes(scopes)] = {token, std::chrono::steady_clock::now() + std::chrono::seconds(lifetime - 5)};
  return token;
}

void Client::fail(const std::string& repository, const std::string& what, const Response& response) const
{
  const std::string code = registry_error_code(response.body);
  std::string message = what + ": HTTP " + std::to_string(response.status);
  if (!code.empty()) message += " " + code;
  if (response.status == 401) message += " (authentication required or refused)";
  if (response.status == 403) message += " (access denied)";
  throw util::Error(util::Location::of("docker://" + m_registry + "/" + repository), message);
}

Manifest Client::fetch_manifest(const std::string& repository, const std::string& reference)
{
  Request r;
  r.url = "/v2/" + repository + "/manifests/" + reference;
  r.headers.push_back(k_manifest_accept);
  std::string bytes;
  r.on_data = [&](const char* data, size_t n) {
    if (bytes.size() + n > k_max_manifest) throw util::Error("manifest larger than 8 MiB");
    bytes.append(data, n);
  };
  const std::string what = "manifest " + reference;
  const Response response = send(r, repository, {"repository:" + repository + ":pull"}, what, [&](Request&) { bytes.clear(); });
  if (response.status != 200) fail(repository, what, response);
  Manifest m;
  m.bytes = std::move(bytes);
  m.media_type = content_type(response);
  m.digest = digest::sha256_digest(m.bytes);
  const std::string claimed = response.header("docker-content-digest");
  if (reference.rfind("sha256:", 0) == 0 && m.digest != reference) {
    throw util::Error(util::Location::of("docker://" + m_registry + "/" + repository + "@" + reference),
                      "the manifest's content digest is " + m.digest);
  }
  if (digest::is_sha256_digest(claimed) && claimed != m.digest) {
    throw util::Error(util::Location::of("docker://" + m_registry + "/" + repository + ":" + reference),
                      "the manifest's content digest " + m.digest + " differs from Docker-Content-Digest " + claimed);
  }
  return m;
}

namespace {

// The first byte position of a Content-Range "bytes FIRST-LAST/TOTAL", or nullopt.
std::optional<std::uint64_t> content_range_start(const std::string& value)
{
  if (value.rfind("bytes ", 0) != 0) return std::nullopt;
  std::uint64_t start = 0;
  size_t i = 6;
  const size_t digits = i;
  for (; i < value.size() && value[i] >= '0' && value[i] <= '9' && i - digits < 19; ++i) {
    start = start * 10 + static_cast<std::uint64_t>(value[i] - '0');
  }
  if (i == digits || i >= value.size() || value[i] != '-') return std::nullopt;
  return start;
}

} // namespace

void Client::fetch_blob(const std::string& repository, const std::string& digest, const BlobSink& sink)
{
  Request r;
  r.url = "/v2/" + repository + "/blobs/" + digest;
  r.on_data = sink.write;
  std::uint64_t from = 0; // what this attempt asks the bytes from
  r.on_body_start = [&](const Response& response) {
    if (response.status != 206) return; // the whole blob: from 0, as restart() said
    const std::optional<std::uint64_t> start = content_range_start(response.header("content-range"));
    if (!start || *start != from) {
      throw util::Error(util::Location::of("docker://" + m_registry + "/" + repository + "@" + digest),
                        "the registry answered the request for the bytes from " + std::to_string(from) +
                            " with others (Content-Range: " + util::printable(response.header("content-range")) + ")");
    }
    sink.resume(from);
  };
  auto prepare = [&](Request& request) {
    sink.restart();
    from = sink.held ? sink.held() : 0;
    request.headers.clear();
    if (from > 0) request.headers.push_back("Range: bytes=" + std::to_string(from) + "-");
  };
  const std::string what = "blob " + digest;
  const Response response = send(r, repository, {"repository:" + repository + ":pull"}, what, prepare);
  // A 206's bytes began where asked (on_body_start); the digest and size checks see the rest.
  if (response.status != 200 && response.status != 206) fail(repository, what, response);
  note_home(m_registry, digest, repository);
}

bool Client::blob_exists(const std::string& named, const std::string& digest)
{
  const std::string repository = local_repository(named);
  Request r;
  r.method = "HEAD";
  r.url = "/v2/" + repository + "/blobs/" + digest;
  const Response response = send(r, repository, push_scopes(repository), "blob " + digest);
  if (response.status == 200) return true;
  if (response.status == 404) return false;
  fail(repository, "blob " + digest, response);
}

bool Client::mount_blob(const std::string& named, const std::string& digest, const std::string& from)
{
  const std::string repository = local_repository(named);
  Request r;
  r.method = "POST";
  r.url = "/v2/" + repository + "/blobs/uploads/?mount=" + url_encode(digest) + "&from=" + url_encode(from);
  const Response response =
      send(r, repository, {"repository:" + repository + ":pull,push", "repository:" + from + ":pull"},
           "mount of blob " + digest + " from " + from);
  if (response.status == 201) return true;
  if (response.status == 202) {
    // Not mounted: an upload was started instead; cancel it (a leftover upload expires anyway).
    cancel_session(repository, resolve_url(url(r.url), response.header("location")));
    return false;
  }
  if (response.status == 401 || response.status == 403 || response.status == 404) return false;
  fail(repository, "mount of blob " + digest, response);
}

std::string Client::start_upload(const std::string& repository, const std::string& what)
{
  Request start;
  start.method = "POST";
  start.url = "/v2/" + repository + "/blobs/uploads/";
  const Response started = send(start, repository, push_scopes(repository), what);
  if (started.status != 202 || started.header("location").empty()) fail(repository, what, started);
  return resolve_url(url(start.url), started.header("location"));
}

std::string Client::send_upload(const std::string& named, const std::string& digest, const std::string& file,
                                int fd, std::uint64_t size)
{
  const std::string repository = local_repository(named);
  const std::string what = "upload of blob " + digest;
  for (unsigned attempt = 1;; ++attempt) {
    const std::string location = start_upload(repository, what);
    Request patch;
    patch.method = "PATCH";
    patch.url = location;
    patch.headers.push_back("Content-Type: application/octet-stream");
    patch.body_file = file;
    patch.body_fd = fd;
    patch.body_size = size;
    const Response patched = send(patch, repository, push_scopes(repository), what);
    if (patched.status == 202 && !patched.header("location").empty()) {
      return resolve_url(location, patched.header("location"));
    }
    if (attempt < attempts() && (patched.status == 404 || patched.status == 416)) {
      continue; // the upload session was lost: start again
    }
    fail(repository, what, patched);
  }
}

Response Client::put_upload(const std::string& repository, const std::string& location, const std::string& digest,
                            const std::string& file, std::uint64_t size)
{
  Request put;
  put.method = "PUT";
  put.url = location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + url_encode(digest);
  put.headers.push_back("Content-Type: application/octet-stream");
  if (!file.empty()) {
    put.body_file = file;
    put.body_size = size;
  }
  return send(put, repository, push_scopes(repository), "upload of blob " + digest);
}

bool Client::commit_upload(const std::string& named, const std::string& location, const std::string& digest)
{
  const std::string repository = local_repository(named);
  const Response done = put_upload(repository, location, digest, "", 0);
  if (done.status == 201) return true;
  if (done.status == 404) return false; // the session is gone: the caller uploads again
  fail(repository, "upload of blob " + digest, done);
}

void Client::cancel_upload(const std::string& named, const std::string& location) noexcept
{
  try {
    cancel_session(local_repository(named), location);
  } catch (...) {
    // As below.
  }
}

void Client::cancel_session(const std::string& repository, const std::string& location) noexcept
{
  try {
    Request cancel;
    cancel.method = "DELETE";
    cancel.url = location;
    send(cancel, repository, push_scopes(repository), "cancel of an upload");
  } catch (...) {
    // An upload never committed holds nothing under a digest; the registry drops it in time.
  }
}

void Client::upload_blob(const std::string& named, const std::string& digest, const std::string& file,
                         std::uint64_t size)
{
  const std::string repository = local_repository(named);
  const std::string what = "upload of blob " + digest;
  for (unsigned attempt = 1;; ++attempt) {
    const bool monolithic = size <= k_monolithic_limit;
    const std::string location =
        monolithic ? start_upload(repository, what) : send_upload(named, digest, file, -1, size);
    const Response done = put_upload(repository, location, digest, monolithic ? file : "", size);
    if (done.status == 201) return;
    if (attempt < attempts() && done.status == 404) continue;
    fail(repository, what, done);
  }
}

std::string Client::put_manifest(const std::string& named, const std::string& reference, const std::string& bytes,
                                 const std::string& media_type)
{
  const std::string repository = local_repository(named);
  Request r;
  r.method = "PUT";
  r.url = "/v2/" + repository + "/manifests/" + reference;
  r.headers.push_back("Content-Type: " + media_type);
  r.body = bytes;
  const std::string what = "manifest " + reference;
  const Response response = send(r, repository, push_scopes(repository), what);
  if (response.status != 201 && response.status != 200) fail(repository, what, response);
  const std::string ours = digest::sha256_digest(bytes);
  const std::string theirs = response.header("docker-content-digest");
  if (digest::is_sha256_digest(theirs) && theirs != ours) {
    throw util::Error(util::Location::of("docker://" + m_registry + "/" + repository + ":" + reference),
                      "the registry stored the manifest as " + theirs + ", not " + ours);
  }
  return ours;
}

std::optional<std::string> Client::repository_holding(const std::string& digest) const
{
  const std::lock_guard lock(blob_homes_mutex());
  const auto& homes = blob_homes()[m_registry];
  const auto it = homes.find(digest);
  return it == homes.end() ? std::nullopt : std::optional<std::string>(it->second);
}

void Client::note_blob(const std::string& digest, const std::string& named)
{
  const std::string repository = local_repository(named);
  const std::lock_guard lock(blob_homes_mutex());
  blob_homes()[m_registry].emplace(digest, repository);
}

} // namespace reproimg::registry
