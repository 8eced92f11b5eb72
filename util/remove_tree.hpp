// Removing a directory tree: what temp directories, and the interrupt handler, need.
#pragma once

#include <string>

namespace reproimg::util {

// Removes a directory tree (no error if it does not exist). Symlinks are removed, not followed.
void remove_tree(const std::string& path);

} // namespace reproimg::util
