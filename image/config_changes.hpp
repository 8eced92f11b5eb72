// The Dockerfile instructions `docker import --change` accepts, applied to an image config.
#pragma once

#include "image/json.hpp"

#include <string>
#include <vector>

namespace reproimg::image {

// Applies one instruction ("CMD [\"/bin/sh\"]", "ENV A=1 B=2", "EXPOSE 80/tcp", ...) to the
// "config" object of an OCI image config. Accepted: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD,
// STOPSIGNAL, USER, VOLUME, WORKDIR. Throws util::Error naming the instruction otherwise.
void apply_change(Json& config, const std::string& instruction);

// Splits a Dockerfile argument string into words: whitespace separates, "..." and '...' group,
// a backslash escapes the next character.
std::vector<std::string> split_words(const std::string& text);

} // namespace reproimg::image
