// A test fixture: an OCI layout in a temporary directory, built document by document.
#pragma once

#include "digest/sha256.hpp"
#include "image/image_source.hpp"
#include "tests/support.hpp"
#include "util/file.hpp"

#include <string>
#include <sys/stat.h>

namespace reproimg::test {

inline const char* const k_manifest_type = R"("mediaType":"application/vnd.oci.image.manifest.v1+json",)";

class Layout {
public:
  Layout()
  {
    ::mkdir(m_dir.file("blobs").c_str(), 0755);
    ::mkdir(m_dir.file("blobs/sha256").c_str(), 0755);
    util::write_file_atomic(m_dir.file("oci-layout"), R"({"imageLayoutVersion":"1.0.0"})");
  }
  // Stores a blob; returns its descriptor fields as JSON text: "digest":"...","size":N.
  std::string blob(const std::string& bytes)
  {
    const std::string digest = digest::sha256_digest(bytes);
    util::write_file_atomic(m_dir.file("blobs/sha256/" + digest.substr(7)), bytes);
    return "\"digest\":\"" + digest + "\",\"size\":" + std::to_string(bytes.size());
  }
  // A manifest with no layers around config; returns its descriptor fields.
  std::string image(const std::string& config)
  {
    return blob(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
                R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json",)" +
                blob(config) + R"(},"layers":[]})");
  }
  void index(const std::string& manifests)
  {
    util::write_file_atomic(m_dir.file("index.json"), R"({"schemaVersion":2,"manifests":[)" + manifests + "]}");
  }
  const std::string& path() const { return m_dir.path(); }
  image::Image load() const
  {
    const image::ImageRef ref{image::ImageRef::Kind::oci, m_dir.path(), ""};
    return image::load_image(*image::ImageStore::open(ref), ref, std::nullopt);
  }

private:
  TempDir m_dir;
};

} // namespace reproimg::test
