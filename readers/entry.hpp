// Entry: one file-system object of a layer, as read from a source and as written canonically.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace reproimg::readers {

// Values are the ustar typeflags the canonical writer emits.
enum class EntryType : char {
  regular = '0',
  hardlink = '1',
  symlink = '2',
  chardev = '3',
  blockdev = '4',
  directory = '5',
  fifo = '6',
  socket = 's', // never written: dropped by the canonical policy
};

const char* type_name(EntryType type);

// Where an entry's bytes are while entries are being sorted.
struct ContentRef {
  enum class Where : std::uint8_t {
    none,   // no content (size 0 or not a regular file)
    spool,  // in the Spool at offset
    source, // in the (seekable, uncompressed) input file at offset
    disk,   // a file on disk: offset indexes ContentStore's disk path list
  };
  Where where = Where::none;
  std::uint64_t offset = 0;
};

using Xattrs = std::vector<std::pair<std::string, std::string>>;

// An entry as a reader produces it: the raw path bytes and every attribute the input carried.
struct SourceEntry {
  std::string path;      // raw bytes as stored (may have ./, //, a leading /)
  EntryType type = EntryType::regular;
  std::uint32_t mode = 0; // permission bits, 07777
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::string uname;
  std::string gname;
  std::int64_t mtime = 0;
  long mtime_nsec = 0;
  bool has_atime = false;
  bool has_ctime = false;
  std::int64_t atime = 0; // when has_atime (diff reports them; normalize drops them)
  std::int64_t ctime = 0; // when has_ctime
  bool has_birthtime = false;
  bool has_acl = false;
  bool has_fflags = false;
  bool sparse = false;
  std::uint64_t size = 0;   // logical content size (regular files)
  std::string link_target;  // symlink target (verbatim) or hardlink target (raw path)
  std::uint32_t devmajor = 0;
  std::uint32_t devminor = 0;
  Xattrs xattrs;            // name -> value, in input order
};

// A canonical entry, as the writer needs it.
struct Entry {
  std::string path;  // canonical: relative, no trailing '/', never empty
  EntryType type = EntryType::regular;
  std::uint32_t mode = 0;
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::string uname;
  std::string gname;
  std::int64_t mtime = 0;
  std::uint64_t size = 0;
  std::string link_target; // symlink target, or the canonical path a hardlink points at
  std::uint32_t devmajor = 0;
  std::uint32_t devminor = 0;
  Xattrs xattrs; // sorted by name
  ContentRef content;
};

} // namespace reproimg::readers
