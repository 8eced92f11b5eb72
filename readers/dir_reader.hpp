// Walks a rootfs directory on disk in sorted order as a stream of entries.
#pragma once

#include "readers/source.hpp"
#include "util/progress.hpp"

#include <string>

namespace reproimg::readers {

// Entries come in byte order of their names at each level; hardlinks are found by (device,
// inode): the first path seen carries the data, later ones link to it. Symlinks are not followed.
// Returns the number of entries read.
std::uint64_t read_directory(const std::string& root, EntryVisitor& visitor, util::Progress& progress);

} // namespace reproimg::readers
