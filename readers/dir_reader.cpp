// Directory walking with lstat, sorted listings, inode-based hardlinks and xattrs.
#include "readers/dir_reader.hpp"

#include "util/error.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"
#include "util/syscalls.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

namespace reproimg::readers {

namespace {

// Every extended attribute of path (not followed). A file system without xattrs has none; any
// other failure is an error: a rootfs read without the right to its xattrs must not silently lose
// security.capability.
Xattrs read_xattrs(const std::string& path)
{
  Xattrs out;
  auto failed = [&](const char* what, const std::string& name) {
    const int err = errno;
    throw util::Error(util::Location{path, std::nullopt, std::nullopt},
                      std::string("cannot ") + what + (name.empty() ? "" : " '" + util::printable(name) + "'") + ": " +
                          std::strerror(err));
  };
  ssize_t len = util::sys::llistxattr(path.c_str(), nullptr, 0);
  if (len < 0 && (errno == ENOTSUP || errno == ENOSYS)) {
    return out;
  }
  if (len < 0) {
    failed("list the extended attributes", "");
  }
  if (len == 0) {
    return out;
  }
  std::vector<char> names(static_cast<size_t>(len));
  len = util::sys::llistxattr(path.c_str(), names.data(), names.size());
  if (len < 0) {
    failed("list the extended attributes", "");
  }
  for (size_t i = 0; i < static_cast<size_t>(len);) {
    const std::string name(names.data() + i);
    i += name.size() + 1;
    const ssize_t vlen = util::sys::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (vlen < 0 && errno == ENODATA) {
      continue; // removed since it was listed
    }
    if (vlen < 0) {
      failed("read the extended attribute", name);
    }
    std::string value(static_cast<size_t>(vlen), '\0');
    const ssize_t got = util::sys::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (got < 0 && errno == ENODATA) {
      continue;
    }
    if (got < 0) {
      failed("read the extended attribute", name);
    }
    value.resize(static_cast<size_t>(got));
    out.emplace_back(name, value);
  }
  return out;
}

struct Walker {
  std::string root;
  EntryVisitor& visitor;
  util::Progress& progress;
  std::map<std::pair<dev_t, ino_t>, std::string> inodes;
  std::uint64_t count = 0;

  void walk(const std::string& rel, int depth)
  {
    if (depth > 4096) {
      throw util::Error(util::Location{root, rel, std::nullopt}, "directory nesting too deep");
    }
    const std::string dir_path = rel.empty() ? root : root + "/" + rel;
    const std::vector<std::string> names = util::sorted_directory_names(dir_path);
    for (const auto& name : names) {
      const std::string child_rel = rel.empty() ? name : rel + "/" + name;
      const std::string full = root + "/" + child_rel;
      struct stat st {};
      if (::lstat(full.c_str(), &st) != 0) {
        util::throw_errno("cannot stat", full);
      }
      if (util::is_temp_path(st.st_dev, st.st_ino)) {
        continue; // an output of this command still being written (its temporary file or folder)
      }
      SourceEntry e;
      e.path = child_rel;
      e.mode = st.st_mode & 07777;
      e.uid = st.st_uid;
      e.gid = st.st_gid;
      e.mtime = st.st_mtim.tv_sec;
      e.mtime_nsec = st.st_mtim.tv_nsec;
      e.xattrs = read_xattrs(full);
      const bool linkable = !S_ISDIR(st.st_mode) && st.st_nlink > 1;
      if (linkable) {
        const auto key = std::make_pair(st.st_dev, st.st_ino);
        const auto it = inodes.find(key);
        if (it != inodes.end()) {
          e.type = EntryType::hardlink;
          e.link_target = it->second;
          NoEntryData none;
          visitor.on_entry(e, none);
          progress.add(0, 1);
          ++count;
          continue;
        }
        inodes.emplace(key, child_rel);
      }
      if (S_ISREG(st.st_mode)) {
        e.type = EntryType::regular;
        e.size = static_cast<std::uint64_t>(st.st_size);
        DiskFileData data(full);
        visitor.on_entry(e, data);
      } else {
        NoEntryData none;
        if (S_ISDIR(st.st_mode)) {
          e.type = EntryType::directory;
        } else if (S_ISLNK(st.st_mode)) {
          e.type = EntryType::symlink;
          std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
          const ssize_t n = ::readlink(full.c_str(), target.data(), target.size());
          if (n < 0) {
            util::throw_errno("cannot read symlink", full);
          }
          target.resize(static_cast<size_t>(n));
          e.link_target = target;
        } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
          e.type = S_ISCHR(st.st_mode) ? EntryType::chardev : EntryType::blockdev;
          e.devmajor = major(st.st_rdev);
          e.devminor = minor(st.st_rdev);
        } else if (S_ISFIFO(st.st_mode)) {
          e.type = EntryType::fifo;
        } else {
          e.type = EntryType::socket;
        }
        visitor.on_entry(e, none);
      }
      progress.add(e.size, 1);
      ++count;
      if (S_ISDIR(st.st_mode)) {
        walk(child_rel, depth + 1);
      }
    }
  }
};

} // namespace

void DiskFileData::read(util::ByteSink& sink, std::uint64_t)
{
  util::Fd fd = util::open_read(m_path);
  std::vector<unsigned char> buf(1 << 20);
  for (;;) {
    const size_t n = util::read_full(fd.get(), buf.data(), buf.size(), m_path);
    if (n == 0) {
      break;
    }
    sink.write(buf.data(), n);
  }
}

std::uint64_t read_directory(const std::string& root, EntryVisitor& visitor, util::Progress& progress)
{
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 && errno == ENOENT) {
    throw util::Error(util::Location{root, std::nullopt, std::nullopt}, "does not exist");
  }
  if (::stat(root.c_str(), &st) != 0) {
    util::throw_errno("cannot read", root);
  }
  if (!S_ISDIR(st.st_mode)) {
    throw util::Error(util::Location{root, std::nullopt, std::nullopt}, "not a directory");
  }
  Walker w{root, visitor, progress, {}, 0};
  w.walk("", 0);
  return w.count;
}

} // namespace reproimg::readers
