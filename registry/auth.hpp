// Registry authentication: where credentials come from (--creds, then the auth files in skopeo's
// order, with docker-credential helpers), and the WWW-Authenticate challenge a registry answers
// 401 with (Basic, or Bearer with a token endpoint).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reproimg::registry {

struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token; // an OAuth2 refresh token (docker login's "identitytoken"); then no password
  std::string source;         // where they were found, for messages (never the secret)
};

// "USER[:PASS]" as --creds takes it; throws util::Error for an empty user.
Credentials parse_creds_option(const std::string& value);

// The credentials for registry (and repository: auth files may hold repository-scoped entries),
// from the first auth file that has an entry: $REGISTRY_AUTH_FILE, else
// ${XDG_RUNTIME_DIR}/containers/auth.json; ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json;
// ${DOCKER_CONFIG:-~/.docker}/config.json. In each, credHelpers[registry] first, then auths (the
// most specific key first), then credsStore. nullopt: anonymous. auth_file (--authfile), when
// given, is read in place of the first ($REGISTRY_AUTH_FILE or XDG_RUNTIME_DIR's), as skopeo does.
std::optional<Credentials> find_credentials(const std::string& registry, const std::string& repository,
                                            const std::string& auth_file = {});

// The same lookup in one auth file's JSON text (what find_credentials does per file); file is
// for messages.
std::optional<Credentials> credentials_in_auth_file(const std::string& text, const std::string& registry,
                                                    const std::string& repository, const std::string& file);

// Runs docker-credential-HELPER get for registry; nullopt when the helper has none.
std::optional<Credentials> run_credential_helper(const std::string& helper, const std::string& registry);

struct Challenge {
  std::string scheme;                        // "basic" or "bearer", lower case
  std::map<std::string, std::string> params; // realm, service, scope, error (keys lower case)
};

// The challenges of a WWW-Authenticate header value, e.g.
// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"`.
std::vector<Challenge> parse_challenges(const std::string& header);

std::string base64_encode(const std::string& bytes);
// Throws util::Error (naming what) for text that is not base64.
std::string base64_decode(const std::string& text, const std::string& what);

} // namespace reproimg::registry
