// The directory transport: detection by content, the version line, manifest media types.
#include "image/dir_transport.hpp"

#include "image/media_types.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <fcntl.h>

namespace reproimg::image {

namespace {

bool all_digits(const std::string& s)
{
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

} // namespace

bool holds_dir_transport(const std::string& dir)
{
  const std::string path = dir + "/version";
  if (!util::is_regular_file(path)) {
    return false;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return false; // unreadable or a symlink: not what containers/image writes
  }
  util::Fd owned(fd);
  const std::string prefix = k_dir_transport_version_prefix;
  std::string head(prefix.size(), '\0');
  const size_t got = util::read_full(owned.get(), head.data(), head.size(), path);
  return got == prefix.size() && head == prefix;
}

std::string read_dir_transport_version(const std::string& path)
{
  util::Fd fd = util::open_read(path);
  std::string text(257, '\0');
  text.resize(util::read_full(fd.get(), text.data(), text.size(), path));
  if (text.size() > 256) {
    throw util::Error(util::Location{path, std::nullopt, std::nullopt}, "too long for a directory transport version line");
  }
  return text;
}

unsigned check_dir_transport_version(const std::string& text, const std::string& where)
{
  const std::string prefix = k_dir_transport_version_prefix;
  std::string line = text.rfind(prefix, 0) == 0 ? text.substr(prefix.size()) : std::string();
  if (!line.empty() && line.back() == '\n') {
    line.pop_back();
  }
  const auto dot = line.find('.');
  const bool well_formed = dot != std::string::npos && all_digits(line.substr(0, dot)) && all_digits(line.substr(dot + 1));
  if (!well_formed) {
    throw util::Error(util::Location{where, std::nullopt, std::nullopt},
                      "not a directory transport version line: '" + util::printable(text.substr(0, 80)) + "'");
  }
  if (line.substr(0, dot) != "1") {
    throw util::Error(util::Location{where, std::nullopt, std::nullopt},
                      "directory transport version " + util::printable(line) + ": reproimg reads version 1.x");
  }
  const std::string minor = line.substr(dot + 1);
  return minor.size() > 6 ? 999999 : static_cast<unsigned>(std::stoul(minor));
}

std::string manifest_media_type_of(const Json& manifest)
{
  if (!manifest.is_object()) {
    return "";
  }
  if (manifest.contains("mediaType") && manifest["mediaType"].is_string()) {
    return manifest["mediaType"].get<std::string>();
  }
  if (manifest.contains("schemaVersion") && manifest["schemaVersion"] == 1) {
    return media::docker_manifest_v1;
  }
  if (manifest.contains("manifests") && manifest["manifests"].is_array()) {
    return media::oci_index;
  }
  if (manifest.contains("config") && manifest["config"].is_object()) {
    const Json& c = manifest["config"];
    if (c.contains("mediaType") && c["mediaType"] == media::docker_config) {
      return media::docker_manifest;
    }
    return media::oci_manifest;
  }
  return "";
}

} // namespace reproimg::image
