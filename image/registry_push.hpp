// Pushing an image to a registry (docker://): the OCI layout the image writer produced, its blobs
// uploaded where missing (HEAD first, a cross-repository mount when this run read the blob from
// another repository of the same registry), then its manifest(s), the top one by tag. The bytes
// pushed are the layout's: the pushed digest is the one an oci: output gets.
#pragma once

#include "registry/reference.hpp"

#include <string>

namespace reproimg::image {

struct PushResult {
  std::string digest;    // of the top manifest (or index)
  std::string reference; // "REGISTRY/REPOSITORY:TAG@DIGEST" as printed
  unsigned blobs_uploaded = 0;
  unsigned blobs_present = 0; // already there, or mounted
};

// Pushes the one image (or index) of the OCI layout at dir to dest. A digest reference is
// refused unless it is the manifest's own digest.
PushResult push_layout(const std::string& dir, const registry::Reference& dest);

} // namespace reproimg::image
