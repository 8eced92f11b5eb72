// Parallel deterministic gzip: the stream cut into fixed blocks, each deflated on its own thread
// with the previous block's last 32 KiB as its dictionary, joined into one gzip member.
#pragma once

#include "util/file.hpp"

#include <cstddef>
#include <memory>

namespace reproimg::normalize {

// Fixed by docs/canonical-tar.md §7.2: the bytes depend on these and on the input only, never on
// the thread count or on timing.
constexpr int k_gzip_level = 6;
constexpr size_t k_gzip_block_size = 128 * 1024;
constexpr size_t k_gzip_dictionary_size = 32 * 1024;

// A sink writing one gzip member into next. threads: the deflate workers (1: everything on the
// caller's thread; else the caller compresses a waiting block itself rather than wait idle for
// the workers). At most 4 blocks per thread and 2 more are held at once (128 KiB of input and its
// output each), whatever the input size.
std::unique_ptr<util::ByteSink> make_parallel_gzip(util::ByteSink& next, unsigned threads);

} // namespace reproimg::normalize
