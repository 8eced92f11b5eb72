// The reproducible `docker build` of a one-stage Dockerfile, FROM scratch or FROM a local image
// (oci:, oci-archive:, docker-archive:): no daemon, no RUN; the base image's layers are kept byte
// for byte, every ADD and COPY becomes one canonical layer on top, and the new times are E.
#pragma once

#include "image/import.hpp"
#include "image/oci_layout.hpp"
#include "normalize/pipeline.hpp"
#include "normalize/report.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace reproimg::dockerfile {

struct BuildOptions {
  normalize::NormalizeOptions layer;             // policy (E, ...) and layer compression
  image::Platform platform;                             // the target (FROM --platform overrides it)
  std::string tag;                               // the index's org.opencontainers.image.ref.name
  std::vector<std::string> repo_tags;            // docker-archive: its RepoTags ("name:tag")
  image::ImageFormat format = image::ImageFormat::oci;
  image::StagedBlob staged_blob;                 // told of each layer blob as it is written (a push)
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
  std::string manifest_digest; // empty for a docker-archive: it holds no manifest
  std::string config_digest; // the image ID
  std::vector<BuildLayer> layers; // the base image's, then this build's
};

// Builds the image of the Dockerfile over the context directory and writes it to out (an OCI
// layout directory that must not exist or be empty, or an oci-archive or docker-archive file).
// Nothing appears at out unless the whole image was written. A relative path in FROM is relative
// to the current directory, as on the command line. Warnings (build arguments no ARG consumed, sockets
// dropped, ...) go to report.
BuildResult build_image(const std::string& context, const BuildOptions& options, const std::string& out,
                        normalize::Report& report);

} // namespace reproimg::dockerfile
