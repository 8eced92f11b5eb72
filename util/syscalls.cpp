// The table of system calls tests may replace (util/syscalls.hpp), set to the system's own.
#include "util/syscalls.hpp"

#include <sys/xattr.h>
#include <unistd.h>

namespace reproimg::util::sys {

const Calls& system_calls()
{
  static const Calls k_system{::read, ::pread, ::readdir, ::llistxattr, ::lgetxattr};
  return k_system;
}

Calls& calls()
{
  static Calls table = system_calls();
  return table;
}

} // namespace reproimg::util::sys
