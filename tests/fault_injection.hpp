// Makes one of the system calls of util/syscalls.hpp fail for one file while an InjectedFault
// lives: what a disk that answers EIO, a directory listing cut short or an extended attribute that
// cannot be read look like to the code under test. The file is the one at path when the fault is
// made (by device and inode), so every name and descriptor of it is hit.
#pragma once

#include "util/syscalls.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <sys/stat.h>

namespace reproimg::test {

// Which call fails. lgetxattr also makes llistxattr list one attribute, "user.injected", for the
// file (a file system need not support user xattrs for the test to run).
enum class FailingCall { read, readdir, llistxattr, lgetxattr };

struct Fault {
  FailingCall call = FailingCall::read;
  int error = EIO;
  // read: bytes read fine before the failure (by offset for pread); readdir: names listed first.
  std::uint64_t after = 0;
  // How many calls fail before the file reads fine again (a failure that goes away on retry).
  std::uint64_t times = std::numeric_limits<std::uint64_t>::max();
};

class InjectedFault {
public:
  InjectedFault(const std::string& path, Fault fault)
  {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      throw std::runtime_error("fault injection: no file " + path);
    }
    State& s = state();
    s = State{true, st.st_dev, st.st_ino, fault, 0, 0};
    util::sys::Calls& c = util::sys::calls();
    c.read = &read;
    c.pread = &pread;
    c.readdir = &readdir;
    c.llistxattr = &llistxattr;
    c.lgetxattr = &lgetxattr;
  }
  ~InjectedFault()
  {
    util::sys::calls() = util::sys::system_calls();
    state() = State{};
  }
  InjectedFault(const InjectedFault&) = delete;
  InjectedFault& operator=(const InjectedFault&) = delete;

  // How many calls failed.
  std::uint64_t failures() const { return state().failures; }

private:
  struct State {
    bool active = false;
    dev_t dev = 0;
    ino_t ino = 0;
    Fault fault;
    std::uint64_t progress = 0; // bytes read or names listed so far
    std::uint64_t failures = 0;
  };
  static State& state()
  {
    static State s;
    return s;
  }
  static const util::sys::Calls& sys() { return util::sys::system_calls(); }

  static bool hits(const struct stat& st, FailingCall call)
  {
    const State& s = state();
    return s.active && s.fault.call == call && s.failures < s.fault.times && st.st_dev == s.dev && st.st_ino == s.ino;
  }
  static bool hits_fd(int fd, FailingCall call)
  {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && hits(st, call);
  }
  static bool hits_path(const char* path, FailingCall call)
  {
    struct stat st {};
    return ::lstat(path, &st) == 0 && hits(st, call);
  }
  template <typename T>
  static T fail(T value)
  {
    ++state().failures;
    errno = state().fault.error;
    return value;
  }

  static ssize_t read(int fd, void* data, size_t size)
  {
    if (!hits_fd(fd, FailingCall::read)) {
      return sys().read(fd, data, size);
    }
    State& s = state();
    if (s.progress >= s.fault.after) {
      return fail<ssize_t>(-1);
    }
    const ssize_t n =
        sys().read(fd, data, static_cast<size_t>(std::min<std::uint64_t>(size, s.fault.after - s.progress)));
    if (n > 0) {
      s.progress += static_cast<std::uint64_t>(n);
    }
    return n;
  }
  static ssize_t pread(int fd, void* data, size_t size, off_t offset)
  {
    if (!hits_fd(fd, FailingCall::read)) {
      return sys().pread(fd, data, size, offset);
    }
    const std::uint64_t after = state().fault.after;
    if (static_cast<std::uint64_t>(offset) >= after) {
      return fail<ssize_t>(-1);
    }
    return sys().pread(fd, data, static_cast<size_t>(std::min<std::uint64_t>(size, after - offset)), offset);
  }
  static struct dirent* readdir(DIR* dir)
  {
    if (!hits_fd(::dirfd(dir), FailingCall::readdir)) {
      return sys().readdir(dir);
    }
    State& s = state();
    if (s.progress >= s.fault.after) {
      return fail<struct dirent*>(nullptr);
    }
    ++s.progress;
    return sys().readdir(dir);
  }
  static ssize_t llistxattr(const char* path, char* names, size_t size)
  {
    if (hits_path(path, FailingCall::llistxattr)) {
      return fail<ssize_t>(-1);
    }
    if (hits_path(path, FailingCall::lgetxattr)) {
      static const char k_names[] = "user.injected"; // with its NUL: the list's one name
      if (size == 0) {
        return sizeof k_names;
      }
      if (size < sizeof k_names) {
        errno = ERANGE;
        return -1;
      }
      std::memcpy(names, k_names, sizeof k_names);
      return sizeof k_names;
    }
    return sys().llistxattr(path, names, size);
  }
  static ssize_t lgetxattr(const char* path, const char* name, void* value, size_t size)
  {
    if (hits_path(path, FailingCall::lgetxattr)) {
      return fail<ssize_t>(-1);
    }
    return sys().lgetxattr(path, name, value, size);
  }
};

} // namespace reproimg::test
