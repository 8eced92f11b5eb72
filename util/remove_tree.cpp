// remove_tree with nftw, depth first, not following symlinks.
#include "util/remove_tree.hpp"

#include <cstdio>
#include <ftw.h>

namespace reproimg::util {

namespace {
int remove_one(const char* path, const struct stat*, int, struct FTW*)
{
  ::remove(path);
  return 0;
}
} // namespace

void remove_tree(const std::string& path)
{
  ::nftw(path.c_str(), remove_one, 64, FTW_DEPTH | FTW_PHYS);
}

} // namespace reproimg::util
