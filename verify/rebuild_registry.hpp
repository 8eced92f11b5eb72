// A docker:// artifact of `reproimg rebuild`: every run's build pushes to one tag, so the runs go
// one at a time; before each run the tag is pointed at a placeholder of rebuild's own, and right
// after it the tag is resolved to the digest the run pushed (the registry keeps an image by digest
// after its tag moves on), by which the runs are compared.
#pragma once

#include "registry/reference.hpp"

#include <optional>
#include <string>

namespace reproimg::verify {

// Is spec a docker:// reference?
bool is_registry_artifact(const std::string& spec);

class RegistryArtifact {
public:
  // Throws util::Error when spec is no docker://REGISTRY/REPOSITORY:TAG (a digest names no tag a
  // build could push to).
  explicit RegistryArtifact(const std::string& spec);

  // Before a run: the tag names the placeholder (what it named before is kept, to put back when
  // the run pushes nothing).
  void before_run();
  // After a run that exited 0: "docker://REGISTRY/REPOSITORY@DIGEST" of what it pushed. Throws
  // util::Error naming the run when the tag is missing or still names the placeholder.
  std::string after_run(const std::string& run);
  // After a run that failed: the tag back where it was when it still names the placeholder.
  void restore();

  const registry::Reference& reference() const { return m_ref; }

private:
  struct Previous {
    std::string bytes;
    std::string media_type;
  };

  registry::Reference m_ref;
  std::string m_placeholder; // its manifest digest, once pushed
  std::optional<Previous> m_previous;
};

} // namespace reproimg::verify
