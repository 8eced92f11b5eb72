// Layer sources: how a command-line spelling names one, and the tar input it opens as.
#include "readers/layer_source.hpp"

#include "util/error.hpp"

#include <sys/stat.h>

namespace reproimg::readers {

TarInput tar_input_of(const LayerSource& source, int fd)
{
  TarInput input = tar_input_of(fd, source.display_name());
  input.range_offset = source.offset;
  input.range_length = source.length;
  input.expect = source.expect;
  if (input.expect && source.on_mismatch) {
    input.expect->on_mismatch = source.on_mismatch;
  }
  if (source.growing) {
    // Read as a pipe is: its size is not known until the download is done.
    input.growing = source.growing;
    input.seekable = false;
    input.file_size = source.growing->expected_size(); // for progress: what it will hold
  }
  return input;
}

util::Fd open_layer(const LayerSource& source, Growth growth)
{
  if (!source.growing) {
    return util::open_read(source.path);
  }
  if (growth == Growth::wait) {
    source.growing->wait_done();
  }
  return source.growing->open();
}

void refuse_unread_transport(const std::string& spec)
{
  const auto starts = [&](const char* prefix) { return spec.rfind(prefix, 0) == 0; };
  const std::string name = util::printable(spec);
  if (starts("docker-daemon:")) {
    throw util::Error(util::Location::of(name),
                      "images in a Docker daemon are not read; save the image first (docker save " + name.substr(14) +
                          " -o image.tar) and name docker-archive:image.tar");
  }
  if (starts("containers-storage:")) {
    throw util::Error(util::Location::of(name),
                      "images in podman's storage are not read; save the image first (podman save --format "
                      "oci-archive " +
                          name.substr(19) + " -o image.tar) and name oci-archive:image.tar");
  }
}

LayerSource parse_layer_source(const std::string& spec)
{
  refuse_unread_transport(spec);
  if (spec.rfind("docker://", 0) == 0) {
    throw util::Error(util::Location::of(util::printable(spec)),
                      "an image in a registry, where a layer or a rootfs is wanted (a tar, - or dir:PATH)");
  }
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

} // namespace reproimg::readers
