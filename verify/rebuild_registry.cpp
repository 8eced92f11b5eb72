// The docker:// artifact of `reproimg rebuild` (see rebuild_registry.hpp).
#include "verify/rebuild_registry.hpp"

#include "digest/sha256.hpp"
#include "registry/client.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/spool.hpp"

namespace reproimg::verify {

namespace {

const char* const k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";
const char* const k_oci_config = "application/vnd.oci.image.config.v1+json";

// The placeholder's config: an image of no layers. Fixed bytes: the same digest in every rebuild.
const char* const k_placeholder_config =
    R"({"architecture":"amd64","config":{},"os":"linux","rootfs":{"diff_ids":[],"type":"layers"}})";

std::string placeholder_manifest(const std::string& config_digest, std::size_t config_size)
{
  return std::string(R"({"schemaVersion":2,"mediaType":")") + k_oci_manifest + R"(","config":{"mediaType":")" +
         k_oci_config + R"(","digest":")" + config_digest + R"(","size":)" + std::to_string(config_size) +
         R"(},"layers":[],"annotations":{"org.opencontainers.image.description":"reproimg rebuild: )" +
         R"(a placeholder, set before a build run; the run pushed nothing if the tag still names it"}})";
}

// Is e the registry's 404 for the manifest (the tag does not exist)?
bool is_missing(const util::Error& e)
{
  return e.message().find(": HTTP 404") != std::string::npos;
}

} // namespace

bool is_registry_artifact(const std::string& spec)
{
  return registry::is_registry_spec(spec);
}

RegistryArtifact::RegistryArtifact(const std::string& spec) : m_ref(registry::parse_reference(spec))
{
  if (!m_ref.digest.empty()) {
    throw util::Error(util::Location::of(spec), "rebuild: --artifact docker://: name the tag the build pushes to, "
                                                "not a digest (a digest cannot move to what a run pushed)");
  }
}

void RegistryArtifact::before_run()
{
  registry::Client& client = registry::Client::for_push(m_ref);
  m_previous.reset();
  try {
    const registry::Manifest m = client.get_manifest(m_ref.repository, m_ref.tag);
    m_previous = Previous{m.bytes, m.media_type};
  } catch (const util::Error& e) {
    if (!is_missing(e)) throw; // a tag that does not exist yet has nothing to put back
  }
  const std::string config = k_placeholder_config;
  const std::string config_digest = digest::sha256_digest(config);
  const std::string manifest = placeholder_manifest(config_digest, config.size());
  // (a placeholder an interrupted rebuild left is nothing to put back)
  if (m_previous && digest::sha256_digest(m_previous->bytes) == digest::sha256_digest(manifest)) m_previous.reset();
  if (!client.blob_exists(m_ref.repository, config_digest)) {
    util::TempDir dir(util::temp_directory() + "/reproimg-rebuild-placeholder.");
    const std::string file = dir.path() + "/config";
    util::write_file_atomic(file, config, 0600);
    client.upload_blob(m_ref.repository, config_digest, file, config.size());
  }
  m_placeholder = client.put_manifest(m_ref.repository, m_ref.tag, manifest, k_oci_manifest);
}

std::string RegistryArtifact::after_run(const std::string& run)
{
  registry::Client& client = registry::Client::for_push(m_ref);
  std::string digest;
  try {
    digest = client.get_manifest(m_ref.repository, m_ref.tag).digest;
  } catch (const util::Error& e) {
    e.rethrow_as(util::Location::of(m_ref.display()),
                 "rebuild: after run '" + run + "' (it exited 0), the tag cannot be read: " + e.message());
  }
  if (digest == m_placeholder) {
    restore();
    throw util::Error(util::Location::of(m_ref.display()),
                      "rebuild: run '" + run +
                          "' exited 0 but pushed nothing there (the tag still names the "
                          "placeholder rebuild set before the run)");
  }
  registry::Reference pinned = m_ref;
  pinned.digest = digest;
  return pinned.display();
}

void RegistryArtifact::restore()
{
  if (!m_previous) return;
  registry::Client& client = registry::Client::for_push(m_ref);
  if (client.get_manifest(m_ref.repository, m_ref.tag).digest != m_placeholder) return;
  client.put_manifest(m_ref.repository, m_ref.tag, m_previous->bytes, m_previous->media_type);
}

} // namespace reproimg::verify
