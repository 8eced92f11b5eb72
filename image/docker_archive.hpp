// Writes a `docker save` archive (docker-archive) from an image's config and layer blobs.
#pragma once

#include "normalize/policy.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace reproimg::image {

struct DockerArchiveLayer {
  std::string path;    // the blob on disk
  std::string diff_id; // sha256 of its uncompressed tar; must match the config's rootfs.diff_ids
  normalize::Compression compression = normalize::Compression::none; // how the blob is stored
};

struct DockerArchiveImage {
  std::string config;                 // the config's bytes: the image ID is their sha256
  std::vector<DockerArchiveLayer> layers;
  std::vector<std::string> repo_tags; // "name:tag" (see parse_repo_tag); none: an untagged image
  std::int64_t epoch = 0;             // the mtime of every member
};

// Writes the archive to out atomically: nothing appears at out unless all of it was written.
// Compressed layers are stored decompressed (spooled through a temp file), every layer is checked
// against its diff_id, and the bytes depend on the inputs only.
void write_docker_archive(const DockerArchiveImage& image, const std::string& out);

// "name[:tag]" as docker load and podman load accept it in RepoTags: the name in lower case
// (a registry host may have upper case and a port), the tag "latest" when none is given.
// Throws util::Error for a reference they would refuse (upper case, a digest, an empty part).
std::string parse_repo_tag(const std::string& text);

} // namespace reproimg::image
