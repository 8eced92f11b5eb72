// The reproducible `docker build` of a FROM scratch Dockerfile: no daemon, no RUN; every ADD and
// COPY becomes one canonical layer, and the config's times are E.
#pragma once

#include "image/import.hpp"
#include "image/oci_layout.hpp"
#include "normalize/pipeline.hpp"
#include "normalize/report.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace reproimg::image {

struct BuildOptions {
  normalize::NormalizeOptions layer;             // policy (E, ...) and layer compression
  Platform platform;                             // the target (FROM --platform overrides it)
  std::string tag;                               // the index's org.opencontainers.image.ref.name
  ImageFormat format = ImageFormat::oci;
  std::map<std::string, std::string> build_args; // --build-arg
  std::string dockerfile;                        // empty: CONTEXT/Dockerfile; "-": standard input
};

struct BuildLayer {
  std::string diff_id;
  std::string digest; // the blob
  std::uint64_t size = 0;
  std::string created_by;
};

struct BuildResult {
  std::string manifest_digest;
  std::string config_digest; // the image ID
  std::vector<BuildLayer> layers;
};

// Builds the image of the Dockerfile over the context directory and writes it to out (an OCI
// layout directory that must not exist or be empty, or an oci-archive file). Nothing appears at
// out unless the whole image was written. Warnings (build arguments no ARG consumed, sockets
// dropped, ...) go to report.
BuildResult build_image(const std::string& context, const BuildOptions& options, const std::string& out,
                        normalize::Report& report);

} // namespace reproimg::image
