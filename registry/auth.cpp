// Credential sources and challenge parsing for the registry client. Secrets are never put in a
// message: errors name the file or helper, never the value.
#include "registry/auth.hpp"

#include "util/error.hpp"
#include "util/file.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace reproimg::registry {

namespace {

using Json = nlohmann::json;

std::string env_or(const char* name, const std::string& fallback)
{
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// The auth files, in the order skopeo (containers/image) reads them.
std::vector<std::string> auth_files(const std::string& given)
{
  const std::string home = env_or("HOME", "");
  std::vector<std::string> files;
  if (!given.empty()) {
    files.push_back(given);
  } else if (const char* f = std::getenv("REGISTRY_AUTH_FILE"); f && *f) {
    files.push_back(f);
  } else if (const char* run = std::getenv("XDG_RUNTIME_DIR"); run && *run) {
    files.push_back(std::string(run) + "/containers/auth.json");
  }
  const std::string config = env_or("XDG_CONFIG_HOME", home.empty() ? "" : home + "/.config");
  if (!config.empty()) files.push_back(config + "/containers/auth.json");
  const std::string docker = env_or("DOCKER_CONFIG", home.empty() ? "" : home + "/.docker");
  if (!docker.empty()) files.push_back(docker + "/config.json");
  return files;
}

// An auths key as Docker writes them ("https://index.docker.io/v1/", "registry:5000",
// "http://host/v2/") reduced to what it names: "docker.io", "registry:5000", "host".
std::string normalize_key(std::string key)
{
  for (const char* scheme : {"https://", "http://"}) {
    if (key.rfind(scheme, 0) == 0) {
      key = key.substr(std::string(scheme).size());
      // A URL key names a registry: its path (/v1/, /v2/) is no repository.
      key = key.substr(0, key.find('/'));
    }
  }
  if (key == "index.docker.io" || key == "registry-1.docker.io") key = "docker.io";
  return key;
}

std::optional<Credentials> from_auth_entry(const Json& entry, const std::string& where)
{
  if (!entry.is_object()) return std::nullopt;
  Credentials c;
  c.source = where;
  if (entry.contains("identitytoken") && entry["identitytoken"].is_string() &&
      !entry["identitytoken"].get<std::string>().empty()) {
    c.identity_token = entry["identitytoken"].get<std::string>();
  }
  if (entry.contains("auth") && entry["auth"].is_string() && !entry["auth"].get<std::string>().empty()) {
    const std::string decoded = base64_decode(entry["auth"].get<std::string>(), where);
    const auto colon = decoded.find(':');
    if (colon == std::string::npos) {
      throw util::Error(util::Location::of(where), "an \"auth\" entry that is not base64 of USER:PASSWORD");
    }
    c.username = decoded.substr(0, colon);
    c.password = decoded.substr(colon + 1);
  } else if (entry.contains("username") && entry["username"].is_string()) {
    c.username = entry["username"].get<std::string>();
    if (entry.contains("password") && entry["password"].is_string()) c.password = entry["password"].get<std::string>();
  }
  if (c.username.empty() && c.identity_token.empty()) return std::nullopt;
  return c;
}

// The keys to look for, most specific first: registry/a/b/c, registry/a/b, registry/a, registry.
std::vector<std::string> lookup_keys(const std::string& registry, const std::string& repository)
{
  std::vector<std::string> keys;
  std::string path = registry + "/" + repository;
  while (true) {
    keys.push_back(path);
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) break;
    path = path.substr(0, slash);
  }
  return keys;
}

std::string read_pipe(int fd, size_t limit)
{
  std::string out;
  char buffer[4096];
  while (out.size() < limit) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break; // a helper that hangs: what it said so far
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

} // namespace

Credentials parse_creds_option(const std::string& value)
{
  Credentials c;
  const auto colon = value.find(':');
  c.username = value.substr(0, colon);
  c.password = colon == std::string::npos ? "" : value.substr(colon + 1);
  c.source = "--creds";
  if (c.username.empty()) {
    throw util::Error("--creds: want USER[:PASSWORD] with a user name");
  }
  return c;
}

std::optional<Credentials> credentials_in_auth_file(const std::string& text, const std::string& registry,
                                                    const std::string& repository, const std::string& file)
{
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const std::exception&) {
    throw util::Error(util::Location::of(file), "not valid JSON (an auth file)");
  }
  if (!doc.is_object()) {
    throw util::Error(util::Location::of(file), "not a JSON object (an auth file)");
  }
  if (doc.contains("credHelpers") && doc["credHelpers"].is_object()) {
    for (const auto& [key, helper] : doc["credHelpers"].items()) {
      if (normalize_key(key) == registry && helper.is_string()) {
        return run_credential_helper(helper.get<std::string>(), registry);
      }
    }
  }
  if (doc.contains("auths") && doc["auths"].is_object()) {
    for (const auto& want : lookup_keys(registry, repository)) {
      for (const auto& [key, entry] : doc["auths"].items()) {
        if (normalize_key(key) == want) {
          if (auto c = from_auth_entry(entry, file)) return c;
        }
      }
    }
  }
  if (doc.contains("credsStore") && doc["credsStore"].is_string() && !doc["credsStore"].get<std::string>().empty()) {
    return run_credential_helper(doc["credsStore"].get<std::string>(), registry);
  }
  return std::nullopt;
}

std::optional<Credentials> find_credentials(const std::string& registry, const std::string& repository,
                                            const std::string& auth_file)
{
  for (const auto& file : auth_files(auth_file)) {
    if (!util::is_regular_file(file)) continue;
    if (auto c = credentials_in_auth_file(util::read_file(file), registry, repository, file)) return c;
  }
  return std::nullopt;
}

std::optional<Credentials> run_credential_helper(const std::string& helper, const std::string& registry)
{
  const std::string program = "docker-credential-" + helper;
  for (char ch : helper) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') {
      throw util::Error("credential helper '" + util::printable(helper) + "': not a helper name");
    }
  }
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) util::throw_errno("pipe", program);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  char* argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>("get"), nullptr};
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    throw util::Error("credential helper " + program + ": cannot run it (" + std::strerror(rc) + ")");
  }
  // Docker Hub's entry is keyed by its v1 URL in every helper.
  const std::string server = registry == "docker.io" ? "https://index.docker.io/v1/" : registry;
  const sighandler_t old = ::signal(SIGPIPE, SIG_IGN);
  (void)!::write(in[1], server.data(), server.size());
  ::close(in[1]);
  const std::string text = read_pipe(out[0], 1 << 16);
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::signal(SIGPIPE, old);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    // "credentials not found in native keychain": anonymous, as skopeo goes on.
    return std::nullopt;
  }
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const std::exception&) {
    throw util::Error("credential helper " + program + ": its answer is not JSON");
  }
  Credentials c;
  c.source = program;
  if (doc.is_object() && doc.contains("Username") && doc["Username"].is_string()) c.username = doc["Username"];
  if (doc.is_object() && doc.contains("Secret") && doc["Secret"].is_string()) c.password = doc["Secret"];
  if (c.username == "<token>") {
    c.identity_token = c.password;
    c.username.clear();
    c.password.clear();
  }
  if (c.username.empty() && c.identity_token.empty()) return std::nullopt;
  return c;
}

std::vector<Challenge> parse_challenges(const std::string& header)
{
  std::vector<Challenge> out;
  size_t i = 0;
  const size_t n = header.size();
  auto skip_space = [&] {
    while (i < n && (header[i] == ' ' || header[i] == '\t' || header[i] == ',')) ++i;
  };
  while (true) {
    skip_space();
    if (i >= n) break;
    const size_t start = i;
    while (i < n && header[i] != ' ' && header[i] != ',' && header[i] != '=') ++i;
    std::string token = header.substr(start, i - start);
    for (auto& ch : token) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (i < n && header[i] == '=' && !out.empty()) {
      // key=value of the current challenge.
      ++i;
      std::string value;
      if (i < n && header[i] == '"') {
        for (++i; i < n && header[i] != '"'; ++i) {
          if (header[i] == '\\' && i + 1 < n) ++i;
          value += header[i];
        }
        ++i;
      } else {
        while (i < n && header[i] != ',' && header[i] != ' ') value += header[i++];
      }
      out.back().params[token] = value;
    } else {
      out.push_back({token, {}});
    }
  }
  return out;
}

std::string base64_encode(const std::string& bytes)
{
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64_decode(const std::string& text, const std::string& what)
{
  if (text.size() % 4 != 0) {
    throw util::Error(util::Location::of(what), "a value that is not base64");
  }
  std::string out(text.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) {
    throw util::Error(util::Location::of(what), "a value that is not base64");
  }
  size_t len = static_cast<size_t>(n);
  for (size_t k = text.size(); k > 0 && text[k - 1] == '=' && len > 0; --k) --len; // padding
  out.resize(len);
  return out;
}

} // namespace reproimg::registry
