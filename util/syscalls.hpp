// The system calls whose failures a healthy machine does not show (a read that meets EIO, a
// directory listing cut short, an extended attribute that cannot be read), made through one table
// so that a test can make them fail for one file. Nothing but a test changes the table.
#pragma once

#include <dirent.h>
#include <sys/types.h>

namespace reproimg::util::sys {

struct Calls {
  ssize_t (*read)(int fd, void* data, size_t size);
  ssize_t (*pread)(int fd, void* data, size_t size, off_t offset);
  struct dirent* (*readdir)(DIR* dir);
  ssize_t (*llistxattr)(const char* path, char* names, size_t size);
  ssize_t (*lgetxattr)(const char* path, const char* name, void* value, size_t size);
};

// The table in use: the system's functions unless a test replaced one.
Calls& calls();
// The system's own functions (what a test's replacement calls for the files it leaves alone).
const Calls& system_calls();

[[nodiscard]] inline ssize_t read(int fd, void* data, size_t size)
{
  return calls().read(fd, data, size);
}
[[nodiscard]] inline ssize_t pread(int fd, void* data, size_t size, off_t offset)
{
  return calls().pread(fd, data, size, offset);
}
[[nodiscard]] inline struct dirent* readdir(DIR* dir)
{
  return calls().readdir(dir);
}
[[nodiscard]] inline ssize_t llistxattr(const char* path, char* names, size_t size)
{
  return calls().llistxattr(path, names, size);
}
[[nodiscard]] inline ssize_t lgetxattr(const char* path, const char* name, void* value, size_t size)
{
  return calls().lgetxattr(path, name, value, size);
}

} // namespace reproimg::util::sys
