// Deterministic compressors as byte sinks: gzip with no name and no timestamp, zstd single-threaded.
#pragma once

#include "normalize/policy.hpp"
#include "util/file.hpp"

#include <memory>
#include <vector>

namespace reproimg::normalize {

// Fixed parameters (docs/canonical-tar.md): the output depends on the input and on the library
// version only.
constexpr int k_gzip_level = 6;
constexpr int k_zstd_level = 3;

// Returns a sink compressing into next, or nullptr for Compression::none.
std::unique_ptr<util::ByteSink> make_compressor(Compression c, util::ByteSink& next);

// The versions of the compression libraries, for reports (the blob digest depends on them).
std::string compressor_version(Compression c);

} // namespace reproimg::normalize
