// File handles, the atomic output file and buffered file output.
#include "util/file.hpp"

#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/syscalls.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <tuple>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace reproimg::util {

Fd& Fd::operator=(Fd&& other) noexcept
{
  if (this != &other) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = other.release();
  }
  return *this;
}

Fd::~Fd()
{
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

int Fd::release()
{
  const int fd = m_fd;
  m_fd = -1;
  return fd;
}

void Fd::close(const std::string& name)
{
  if (m_fd < 0) {
    return;
  }
  const int fd = release();
  if (::close(fd) != 0 && errno != EINTR) {
    throw_errno("cannot close", name);
  }
}

namespace {

// The regular files this process opened to read: an output never replaces one. Known by device,
// inode and inode change time (an inode freed and reused by a new file has another).
using FileIdentity = std::tuple<dev_t, ino_t, std::int64_t, long>;
std::mutex g_inputs_mutex;
std::set<FileIdentity> g_inputs;
bool g_guarding = false; // under g_inputs_mutex: an InputGuard is alive

FileIdentity identity_of(const struct stat& st)
{
  return {st.st_dev, st.st_ino, static_cast<std::int64_t>(st.st_ctim.tv_sec), st.st_ctim.tv_nsec};
}

void note_input(int fd)
{
  struct stat st {};
  const std::lock_guard lock(g_inputs_mutex);
  if (g_guarding && ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    g_inputs.insert(identity_of(st));
  }
}

// Throws when path is a file this process read: writing it would destroy an input.
void refuse_input_as_output(const std::string& path)
{
  struct stat st {};
  const std::lock_guard lock(g_inputs_mutex);
  if (!g_guarding || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (g_inputs.count(identity_of(st))) {
    throw Error(Location{path, std::nullopt, std::nullopt},
                "is an input of this command: not overwritten (name another output)");
  }
}

} // namespace

InputGuard::InputGuard()
{
  const std::lock_guard lock(g_inputs_mutex);
  g_inputs.clear();
  g_guarding = true;
}

InputGuard::~InputGuard()
{
  const std::lock_guard lock(g_inputs_mutex);
  g_inputs.clear();
  g_guarding = false;
}

Fd open_read(const std::string& path)
{
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    throw Error(Location{path, std::nullopt, std::nullopt}, "does not exist");
  }
  if (fd < 0) {
    throw_errno("cannot open", path);
  }
  note_input(fd);
  return Fd(fd);
}

void write_all(int fd, const void* data, size_t size, const std::string& name)
{
  const auto* p = static_cast<const unsigned char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw_errno("cannot write", name);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

size_t read_full(int fd, void* data, size_t size, const std::string& name)
{
  auto* p = static_cast<unsigned char*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = sys::read(fd, p + done, size - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw_errno("cannot read", name);
    }
    if (n == 0) {
      break;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

void pread_exact(int fd, void* data, size_t size, std::uint64_t offset, const std::string& name)
{
  auto* p = static_cast<unsigned char*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = sys::pread(fd, p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw_errno("cannot read", name);
    }
    if (n == 0) {
      throw Error(Location{name, std::nullopt, static_cast<std::int64_t>(offset + done)},
                  "unexpected end of file (was the file changed while reading?)");
    }
    done += static_cast<size_t>(n);
  }
}

size_t pread_until_end(int fd, void* data, size_t size, std::uint64_t offset, const std::string& name)
{
  auto* p = static_cast<unsigned char*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = sys::pread(fd, p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      throw_errno("cannot read", name);
    }
    if (n == 0) {
      break;
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

std::string read_file(const std::string& path)
{
  Fd fd = open_read(path);
  std::string out;
  char buf[65536];
  for (;;) {
    const size_t n = read_full(fd.get(), buf, sizeof buf, path);
    if (n == 0) {
      break;
    }
    out.append(buf, n);
  }
  return out;
}

void ByteSink::write_lent(size_t size)
{
  if (size > 0) {
    throw std::logic_error("write_lent() on a sink that lends nothing");
  }
}

FdSink::FdSink(int fd, std::string name, size_t buffer_size)
    : m_fd(fd), m_name(std::move(name)), m_buffer(buffer_size)
{
}

void FdSink::write(const void* data, size_t size)
{
  m_total += size;
  if (m_used + size <= m_buffer.size()) {
    std::memcpy(m_buffer.data() + m_used, data, size);
    m_used += size;
    return;
  }
  if (m_used > 0) {
    write_all(m_fd, m_buffer.data(), m_used, m_name);
    m_used = 0;
  }
  if (size >= m_buffer.size()) {
    write_all(m_fd, data, size, m_name);
  } else {
    std::memcpy(m_buffer.data(), data, size);
    m_used = size;
  }
}

void FdSink::finish()
{
  if (m_used > 0) {
    write_all(m_fd, m_buffer.data(), m_used, m_name);
    m_used = 0;
  }
}

AtomicFile::AtomicFile(std::string path, unsigned mode) : m_path(std::move(path))
{
  struct stat st {};
  if (::stat(m_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    // A device or a fifo (-o /dev/null, a named pipe): nothing to replace atomically, and a rename
    // would put a regular file in place of the device node.
    const int fd = ::open(m_path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      throw_errno("cannot open output", m_path);
    }
    m_fd = Fd(fd);
    m_direct = true;
    return;
  }
  check_output_file(m_path);
  refuse_input_as_output(m_path); // said now for the inputs read already; again at commit()
  std::string templ = m_path + ".tmp.XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int fd = -1;
  int saved_errno = 0;
  {
    // Created and registered for removal on an interrupt in one step.
    const InterruptDeferral defer;
    fd = ::mkostemp(buf.data(), O_CLOEXEC);
    saved_errno = errno;
    if (fd >= 0) {
      m_registration = register_temp_path(buf.data(), TempKind::file);
    }
  }
  if (fd < 0) {
    errno = saved_errno;
    throw_errno("cannot create output", m_path);
  }
  m_temp_path = buf.data();
  m_fd = Fd(fd);
  ::fchmod(fd, mode);
}

AtomicFile::~AtomicFile()
{
  if (m_direct) {
    return;
  }
  if (!m_committed) {
    ::unlink(m_temp_path.c_str());
  }
  unregister_temp_path(m_registration);
}

void AtomicFile::commit()
{
  if (m_direct) {
    m_fd.close(m_path);
    m_committed = true;
    return;
  }
  m_fd.close(m_temp_path);
  refuse_input_as_output(m_path); // the temporary file is removed: nothing was replaced
  const InterruptDeferral defer;
  if (::rename(m_temp_path.c_str(), m_path.c_str()) != 0) {
    throw_errno("cannot rename temporary file into place", m_path);
  }
  m_committed = true;
  unregister_temp_path(m_registration);
}

void check_output_file(const std::string& path)
{
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw Error(Location{path, std::nullopt, std::nullopt}, "is a directory; name a file to write");
  }
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (::stat(dir.c_str(), &st) != 0 && errno == ENOENT) {
    throw Error(Location{path, std::nullopt, std::nullopt}, "cannot create: the directory " + dir + " does not exist");
  }
  if (::stat(dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    throw Error(Location{path, std::nullopt, std::nullopt}, "cannot create: " + dir + " is not a directory");
  }
}

void write_file_atomic(const std::string& path, std::string_view content, unsigned mode)
{
  AtomicFile out(path, mode);
  write_all(out.fd(), content.data(), content.size(), path);
  out.commit();
}

bool is_terminal(int fd)
{
  return ::isatty(fd) == 1;
}

} // namespace reproimg::util

#include <dirent.h>
#include <ftw.h>

namespace reproimg::util {

bool is_regular_file(const std::string& path)
{
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_directory(const std::string& path)
{
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool same_file(const std::string& a, const std::string& b)
{
  struct stat sa {};
  struct stat sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

std::vector<std::string> sorted_directory_names(const std::string& dir)
{
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    throw_errno("cannot open directory", dir);
  }
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* de = sys::readdir(d);
    if (!de) {
      break;
    }
    const std::string n = de->d_name;
    if (n != "." && n != "..") {
      names.push_back(n);
    }
  }
  const int read_errno = errno;
  ::closedir(d);
  if (read_errno != 0) {
    errno = read_errno;
    throw_errno("cannot list directory", dir); // a listing cut short would lose files
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool is_empty_dir(const std::string& path)
{
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    return false;
  }
  bool empty = true;
  for (;;) {
    errno = 0;
    const dirent* de = sys::readdir(d);
    if (!de) {
      break;
    }
    const std::string n = de->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  const int read_errno = errno;
  ::closedir(d);
  if (empty && read_errno != 0) {
    errno = read_errno;
    throw_errno("cannot list directory", path); // a listing cut short is not an empty directory
  }
  return empty;
}

bool is_new_or_empty_dir(const std::string& path)
{
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT;
  }
  return S_ISDIR(st.st_mode) && is_empty_dir(path);
}

TempDir::TempDir(const std::string& prefix)
{
  std::string templ = prefix + "XXXXXX";
  const InterruptDeferral defer;
  if (!::mkdtemp(templ.data())) {
    throw_errno("cannot create a temporary directory", prefix);
  }
  m_path = templ;
  m_registration = register_temp_path(m_path, TempKind::directory);
}

TempDir::~TempDir()
{
  if (!m_released) {
    remove_tree(m_path);
    unregister_temp_path(m_registration);
  }
}

void TempDir::release()
{
  if (!m_released) {
    unregister_temp_path(m_registration);
    m_released = true;
  }
}

} // namespace reproimg::util
