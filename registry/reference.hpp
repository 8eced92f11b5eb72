// Registry references: docker://[REGISTRY/]REPOSITORY[:TAG|@DIGEST], resolved as Docker and skopeo
// resolve them (docker.io, the library/ prefix, localhost:PORT).
#pragma once

#include <optional>
#include <string>

namespace reproimg::registry {

struct Reference {
  std::string registry;   // "docker.io", "ghcr.io", "localhost:5000", "127.0.0.1:5000"
  std::string repository; // "library/debian", "org/image"
  std::string tag;        // empty when only a digest is given
  std::string digest;     // "sha256:HEX", or empty

  // "REGISTRY/REPOSITORY:TAG", "REGISTRY/REPOSITORY@DIGEST" (the digest wins when both are given).
  std::string name() const;
  // "docker://" + name().
  std::string display() const;
  // The tag or digest the manifest is asked for by.
  const std::string& manifest_reference() const { return digest.empty() ? tag : digest; }
};

// Does spec start with "docker://"?
bool is_registry_spec(const std::string& spec);

// Parses what follows docker:// (the prefix itself is accepted and skipped). Without a tag or a
// digest the tag is "latest". Throws util::Error naming spec for a malformed reference.
Reference parse_reference(const std::string& spec);

// The host (and port) the distribution API of a registry is at: docker.io is registry-1.docker.io.
std::string api_host(const std::string& registry);

} // namespace reproimg::registry
