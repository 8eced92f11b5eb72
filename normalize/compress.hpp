// Deterministic compressors as byte sinks: parallel gzip with no name and no timestamp, zstd in
// worker mode; the bytes never depend on the thread count.
#pragma once

#include "normalize/parallel_gzip.hpp"
#include "normalize/policy.hpp"
#include "util/file.hpp"

#include <memory>
#include <vector>

namespace reproimg::normalize {

// Fixed parameters (docs/canonical-tar.md §7): the output depends on the input and on the library
// version only (k_gzip_level and the block size are in parallel_gzip.hpp).
constexpr int k_zstd_level = 3;

// Returns a sink compressing into next on threads threads (0 counts as 1; the bytes are the
// same for every count), or nullptr for Compression::none.
std::unique_ptr<util::ByteSink> make_compressor(Compression c, util::ByteSink& next, unsigned threads = 1);

// The versions of the compression libraries, for reports (the blob digest depends on them).
std::string compressor_version(Compression c);
// The library behind c and its version as it reports it at run time ({"zlib", "1.2.13"});
// empty for Compression::none.
struct CompressorLibrary {
  std::string name;
  std::string version;
};
CompressorLibrary compressor_library(Compression c);

} // namespace reproimg::normalize
