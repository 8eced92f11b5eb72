// OCI image layout writing.
#include "image/oci_layout.hpp"

#include "digest/sha256.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <cstdio>
#include <regex>
#include <sys/stat.h>

namespace reproimg::image {

namespace {

void make_dir(const std::string& path)
{
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    util::throw_errno("cannot create directory", path);
  }
  ::chmod(path.c_str(), 0755); // independent of the umask: the mode is part of an oci-archive
}

} // namespace

Json Descriptor::to_json() const
{
  Json j;
  j["mediaType"] = media_type;
  j["digest"] = digest;
  j["size"] = size;
  if (!annotations.empty()) {
    j["annotations"] = annotations;
  }
  if (!platform.is_null()) {
    j["platform"] = platform;
  }
  return j;
}

OciLayoutBuilder::OciLayoutBuilder(std::string dir) : m_dir(std::move(dir))
{
  make_dir(m_dir + "/blobs");
  make_dir(m_dir + "/blobs/sha256");
}

std::string OciLayoutBuilder::scratch_path(const std::string& name) const
{
  return m_dir + "/blobs/sha256/." + name;
}

Descriptor OciLayoutBuilder::add_blob(std::string_view bytes, const std::string& media_type)
{
  Descriptor d;
  d.media_type = media_type;
  d.digest = digest::sha256_digest(bytes);
  d.size = bytes.size();
  util::write_file_atomic(m_dir + "/blobs/sha256/" + d.digest.substr(7), bytes, 0644);
  return d;
}

Descriptor OciLayoutBuilder::adopt_blob(const std::string& scratch, const std::string& digest, std::uint64_t size,
                                        const std::string& media_type)
{
  const std::string target = m_dir + "/blobs/sha256/" + digest.substr(7);
  ::chmod(scratch.c_str(), 0644);
  if (std::rename(scratch.c_str(), target.c_str()) != 0) {
    util::throw_errno("cannot move blob into place", target);
  }
  Descriptor d;
  d.media_type = media_type;
  d.digest = digest;
  d.size = size;
  return d;
}

void OciLayoutBuilder::write_index(const std::vector<Descriptor>& manifests)
{
  Json index;
  index["schemaVersion"] = 2;
  index["mediaType"] = "application/vnd.oci.image.index.v1+json";
  index["manifests"] = Json::array();
  for (const auto& m : manifests) {
    index["manifests"].push_back(m.to_json());
  }
  util::write_file_atomic(m_dir + "/index.json", canonical_json(index), 0644);
  util::write_file_atomic(m_dir + "/oci-layout", canonical_json(Json{{"imageLayoutVersion", "1.0.0"}}), 0644);
}

void set_config_platform(Json& config, const Platform& platform)
{
  config["architecture"] = platform.architecture;
  config["os"] = platform.os;
  config.erase("variant");
  if (!platform.variant.empty()) {
    config["variant"] = platform.variant;
  }
}

std::string parse_oci_ref_name(const std::string& text)
{
  static const std::regex ref_name(R"([A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*)");
  if (!std::regex_match(text, ref_name)) {
    throw util::Error("invalid --tag '" + util::printable(text) +
                      "': an OCI ref name is letters and digits joined by '.', '_', '-', ':', '@' or '+', with '/' "
                      "between parts (e.g. 1.0, hello:1, example.com/app:v2)");
  }
  return text;
}

Platform parse_platform(const std::string& text)
{
  Platform p;
  const auto a = text.find('/');
  if (a == std::string::npos || a == 0 || a + 1 == text.size()) {
    throw util::Error("invalid --platform '" + util::printable(text) + "': want os/arch[/variant], e.g. linux/amd64");
  }
  p.os = text.substr(0, a);
  const auto b = text.find('/', a + 1);
  p.architecture = text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  if (b != std::string::npos) {
    p.variant = text.substr(b + 1);
  }
  if (p.architecture.empty()) {
    throw util::Error("invalid --platform '" + util::printable(text) + "': empty architecture");
  }
  return p;
}

} // namespace reproimg::image
