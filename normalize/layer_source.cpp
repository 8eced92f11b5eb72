// Layer sources: how a command-line spelling names one, and the tar input it opens as.
#include "normalize/layer_source.hpp"

#include <sys/stat.h>

namespace reproimg::normalize {

TarInput tar_input_of(const LayerSource& source, int fd)
{
  TarInput input = tar_input_of(fd, source.display_name());
  input.range_offset = source.offset;
  input.range_length = source.length;
  input.expect = source.expect;
  return input;
}

LayerSource parse_layer_source(const std::string& spec)
{
  if (spec.rfind("dir:", 0) == 0) {
    return {LayerSource::Kind::directory, spec.substr(4)};
  }
  if (spec.rfind("tar:", 0) == 0) {
    return {LayerSource::Kind::tar, spec.substr(4)};
  }
  if (spec == "-") {
    return {LayerSource::Kind::tar, "-"};
  }
  struct stat st {};
  if (::stat(spec.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return {LayerSource::Kind::directory, spec};
  }
  return {LayerSource::Kind::tar, spec};
}

} // namespace reproimg::normalize
