// Entry type names.
#include "readers/entry.hpp"

namespace reproimg::readers {

const char* type_name(EntryType type)
{
  switch (type) {
  case EntryType::regular: return "file";
  case EntryType::hardlink: return "hardlink";
  case EntryType::symlink: return "symlink";
  case EntryType::chardev: return "char-device";
  case EntryType::blockdev: return "block-device";
  case EntryType::directory: return "directory";
  case EntryType::fifo: return "fifo";
  case EntryType::socket: return "socket";
  }
  return "unknown";
}

} // namespace reproimg::readers
