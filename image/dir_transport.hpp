// skopeo's directory transport (`dir:PATH` of containers/image): how a directory holding one is told
// from a rootfs that happens to have a file named `version`, and what its manifest says it is.
#pragma once

#include "image/json.hpp"

#include <string>

namespace reproimg::image {

// The start of the `version` file containers/image writes: "Directory Transport Version: 1.1\n".
inline constexpr const char* k_dir_transport_version_prefix = "Directory Transport Version: ";

// Does dir hold an image in the directory transport? The content of its `version` file decides,
// never its name alone: the file must begin with the transport's own line.
bool holds_dir_transport(const std::string& dir);

// The text of a `version` file (a line: at most 256 bytes, else util::Error).
std::string read_dir_transport_version(const std::string& path);

// Checks a `version` file's text: "Directory Transport Version: 1.N", a newline at most after it,
// and returns N. Version 1.0 (containers/image before 2018) named blobs HEX.tar, 1.1 names them HEX.
// Throws util::Error naming where for another major version or anything else.
unsigned check_dir_transport_version(const std::string& text, const std::string& where);

// The media type of a manifest read without a descriptor (the transport's manifest.json, whose
// digest is that of its bytes): its "mediaType", else what its shape says, as containers/image
// guesses it (OCI manifests and indexes may omit mediaType); "" when it looks like no manifest.
std::string manifest_media_type_of(const Json& manifest);

} // namespace reproimg::image
