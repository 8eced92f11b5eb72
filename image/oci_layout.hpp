// Writes an OCI image layout (oci-layout, index.json, blobs/sha256/...) into a staging directory.
#pragma once

#include "image/json.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reproimg::image {

struct Descriptor {
  std::string media_type;
  std::string digest;
  std::uint64_t size = 0;
  Json annotations = Json::object();
  Json platform; // null, or {"architecture": ..., "os": ...}
  Json to_json() const;
};

class OciLayoutBuilder {
public:
  // dir must exist and be empty; blobs/sha256 is created inside.
  explicit OciLayoutBuilder(std::string dir);

  const std::string& dir() const { return m_dir; }
  // A path in the blob directory where a blob can be written before adopt_blob() names it.
  std::string scratch_path(const std::string& name) const;

  Descriptor add_blob(std::string_view bytes, const std::string& media_type);
  Descriptor adopt_blob(const std::string& scratch, const std::string& digest, std::uint64_t size,
                        const std::string& media_type);
  // index.json listing the manifests, and the oci-layout marker.
  void write_index(const std::vector<Descriptor>& manifests);

private:
  std::string m_dir;
};

// An OCI ref name (org.opencontainers.image.ref.name) as the user gave it: "1", "hello:1",
// "example.com/app:v2" (the annotation's grammar: letters and digits joined by one of -._:@+ or
// "--", components separated by '/'). Throws util::Error naming the text otherwise.
std::string parse_oci_ref_name(const std::string& text);

// Parses "os/arch[/variant]".
struct Platform {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
};
Platform parse_platform(const std::string& text);
// Sets an image config's architecture, os and variant (removed when the platform has none).
void set_config_platform(Json& config, const Platform& platform);

} // namespace reproimg::image
