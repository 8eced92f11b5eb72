// The workspaces of `reproimg rebuild` (see rebuild_workspace.hpp).
#include "verify/rebuild_workspace.hpp"

#include "util/error.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"
#include "util/remove_tree.hpp"
#include "verify/rebuild_process.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <map>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utility>

namespace reproimg::verify {

namespace {

using InodeKey = std::pair<dev_t, ino_t>;

// What one copy_tree call carries along: hardlinks seen, the method, whether owners can be set.
struct CopyState {
  CopyMethod method = CopyMethod::copy;
  bool can_chown = ::geteuid() == 0;
  std::map<InodeKey, std::string> links;
};

void copy_xattrs(int from_fd, int to_fd, const std::string& path)
{
  const ssize_t size = ::flistxattr(from_fd, nullptr, 0);
  if (size <= 0) return;
  std::string names(static_cast<std::size_t>(size), '\0');
  const ssize_t got = ::flistxattr(from_fd, names.data(), names.size());
  if (got < 0) util::throw_errno("cannot list extended attributes", path);
  for (std::size_t pos = 0; pos < static_cast<std::size_t>(got);) {
    const char* name = names.c_str() + pos;
    pos += std::strlen(name) + 1;
    const ssize_t len = ::fgetxattr(from_fd, name, nullptr, 0);
    if (len < 0) continue;
    std::string value(static_cast<std::size_t>(len), '\0');
    const ssize_t n = ::fgetxattr(from_fd, name, value.data(), value.size());
    if (n >= 0) (void)::fsetxattr(to_fd, name, value.data(), static_cast<std::size_t>(n), 0);
  }
}

// The bytes of from into to: cloned, else copied in the kernel, else read and written.
void copy_bytes(int from, int to, CopyMethod method, const std::string& path)
{
  if (method == CopyMethod::reflink && ::ioctl(to, FICLONE, from) == 0) return;
  bool kernel = true;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = 0;
    if (kernel) {
      n = ::copy_file_range(from, nullptr, to, nullptr, 1 << 30, 0);
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
        kernel = false;
        continue;
      }
    } else {
      n = ::read(from, buf, sizeof buf);
      if (n > 0) util::write_all(to, buf, static_cast<std::size_t>(n), path);
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) util::throw_errno("cannot copy", path);
    if (n == 0) return;
  }
}

void set_attributes(int fd, const struct stat& st, const CopyState& state, const std::string& path)
{
  if (state.can_chown && ::fchown(fd, st.st_uid, st.st_gid) != 0) util::throw_errno("cannot set the owner", path);
  if (::fchmod(fd, st.st_mode & 07777) != 0) util::throw_errno("cannot set the mode", path);
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(fd, times) != 0) util::throw_errno("cannot set the times", path);
}

void copy_file(const std::string& from, const std::string& to, const struct stat& st, CopyState& state)
{
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) util::throw_errno("cannot open", from);
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    const int e = errno;
    ::close(in);
    errno = e;
    util::throw_errno("cannot create", to);
  }
  try {
    copy_bytes(in, out, state.method, to);
    copy_xattrs(in, out, from);
    set_attributes(out, st, state, to);
  } catch (...) {
    ::close(in);
    ::close(out);
    throw;
  }
  ::close(in);
  if (::close(out) != 0) util::throw_errno("cannot write", to);
}

void copy_entry(const std::string& from, const std::string& to, CopyState& state);

void copy_directory(const std::string& from, const std::string& to, const struct stat& st, CopyState& state)
{
  if (::mkdir(to.c_str(), 0700) != 0) util::throw_errno("cannot create", to);
  DIR* dir = ::opendir(from.c_str());
  if (!dir) util::throw_errno("cannot list", from);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
    errno = 0;
  }
  const int read_errno = errno;
  ::closedir(dir);
  if (read_errno != 0) {
    errno = read_errno;
    util::throw_errno("cannot list", from);
  }
  for (const auto& name : names) copy_entry(from + "/" + name, to + "/" + name, state);
  const int fd = ::open(to.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) util::throw_errno("cannot open", to);
  const int src = ::open(from.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src >= 0) {
    copy_xattrs(src, fd, from);
    ::close(src);
  }
  try {
    set_attributes(fd, st, state, to);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void copy_special(const std::string& from, const std::string& to, const struct stat& st, const CopyState& state)
{
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
    const ssize_t n = ::readlink(from.c_str(), target.data(), target.size());
    if (n < 0) util::throw_errno("cannot read the link", from);
    target.resize(static_cast<std::size_t>(n));
    if (::symlink(target.c_str(), to.c_str()) != 0) util::throw_errno("cannot create", to);
  } else if (S_ISSOCK(st.st_mode)) {
    return; // as cp -a: a socket is no file a build reads
  } else if (::mknod(to.c_str(), st.st_mode, st.st_rdev) != 0) {
    util::throw_errno("cannot create", to);
  }
  if (state.can_chown && ::lchown(to.c_str(), st.st_uid, st.st_gid) != 0) util::throw_errno("cannot set the owner", to);
  if (!S_ISLNK(st.st_mode) && ::chmod(to.c_str(), st.st_mode & 07777) != 0)
    util::throw_errno("cannot set the mode", to);
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) util::throw_errno("cannot set the times", to);
}

void copy_entry(const std::string& from, const std::string& to, CopyState& state)
{
  struct stat st {};
  if (::lstat(from.c_str(), &st) != 0) util::throw_errno("cannot stat", from);
  if (S_ISDIR(st.st_mode)) return copy_directory(from, to, st, state);
  if (st.st_nlink > 1) {
    const auto [it, first] = state.links.emplace(InodeKey{st.st_dev, st.st_ino}, to);
    if (!first) {
      if (::link(it->second.c_str(), to.c_str()) != 0) util::throw_errno("cannot link", to);
      return;
    }
  }
  if (S_ISREG(st.st_mode)) return copy_file(from, to, st, state);
  copy_special(from, to, st, state);
}

// The first regular file under dir (depth first), "" when none.
std::string first_file(const std::string& dir, int depth = 0)
{
  DIR* d = ::opendir(dir.c_str());
  if (!d) return "";
  std::string found;
  std::vector<std::string> subdirs;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    const std::string path = dir + "/" + name;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
      found = path;
      break;
    }
    if (S_ISDIR(st.st_mode)) subdirs.push_back(path);
  }
  ::closedir(d);
  for (std::size_t i = 0; found.empty() && depth < 8 && i < subdirs.size() && i < 16; ++i) {
    found = first_file(subdirs[i], depth + 1);
  }
  return found;
}

} // namespace

const char* copy_method_name(CopyMethod m)
{
  switch (m) {
  case CopyMethod::overlay: return "overlay";
  case CopyMethod::reflink: return "reflink";
  case CopyMethod::copy: return "copy";
  }
  return "copy";
}

std::optional<CopyRequest> parse_copy_request(const std::string& name)
{
  if (name == "auto") return CopyRequest::automatic;
  if (name == "overlay") return CopyRequest::overlay;
  if (name == "reflink") return CopyRequest::reflink;
  if (name == "copy") return CopyRequest::copy;
  return std::nullopt;
}

void copy_tree(const std::string& from, const std::string& to, CopyMethod method)
{
  CopyState state;
  state.method = method;
  copy_entry(from, to, state);
}

Scratch::Scratch(const std::string& parent)
{
  // The first free name, not a random one: a build that embeds the path it ran at (the varied
  // build path is under this root) gives the same bytes in every rebuild but concurrent ones.
  util::InterruptDeferral defer;
  for (int n = 0; m_root.empty(); ++n) {
    const std::string path = parent + "/reproimg-rebuild." + std::to_string(n);
    if (::mkdir(path.c_str(), 0700) == 0)
      m_root = path;
    else if (errno != EEXIST || n == 9999)
      util::throw_errno("cannot create a temporary directory", path);
  }
  m_temp_id = util::register_temp_path(m_root, util::TempKind::directory);
  m_action_id = util::register_interrupt_action([this] {
    // On the interrupt thread, after the builds were killed: lazily, nothing can keep a mount busy.
    std::lock_guard lock(m_mutex);
    for (auto it = m_mounts.rbegin(); it != m_mounts.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
  });
}

Scratch::~Scratch()
{
  util::unregister_interrupt_action(m_action_id);
  std::vector<std::string> mounts;
  {
    std::lock_guard lock(m_mutex);
    mounts = m_mounts;
  }
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
    try {
      unmount(*it);
    } catch (...) {
    }
  }
  util::InterruptDeferral defer;
  util::remove_tree(m_root);
  util::unregister_temp_path(m_temp_id);
}

std::string Scratch::make_dir(const std::string& relative)
{
  std::string path = m_root;
  std::size_t pos = 0;
  while (pos <= relative.size()) {
    const std::size_t slash = relative.find('/', pos);
    const std::size_t end = slash == std::string::npos ? relative.size() : slash;
    path += "/" + relative.substr(pos, end - pos);
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) util::throw_errno("cannot create", path);
    pos = end + 1;
  }
  return path;
}

bool Scratch::try_overlay(const std::string& source)
{
  const std::string probe = make_dir("probe-overlay");
  const std::string merged = make_dir("probe-overlay/merged");
  make_dir("probe-overlay/upper");
  make_dir("probe-overlay/work");
  const std::string options = "lowerdir=" + source + ",upperdir=" + probe + "/upper,workdir=" + probe + "/work";
  if (source.find_first_of(",:") != std::string::npos) return false;
  const bool ok = ::mount("overlay", merged.c_str(), "overlay", 0, options.c_str()) == 0;
  if (ok) ::umount2(merged.c_str(), MNT_DETACH);
  util::remove_tree(probe);
  return ok;
}

bool Scratch::try_reflink(const std::string& source)
{
  const std::string file = first_file(source);
  if (file.empty()) return false;
  const int in = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return false;
  const std::string target = m_root + "/probe-reflink";
  const int out = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const bool ok = out >= 0 && ::ioctl(out, FICLONE, in) == 0;
  ::close(in);
  if (out >= 0) ::close(out);
  ::unlink(target.c_str());
  return ok;
}

CopyMethod Scratch::choose(CopyRequest request, const std::string& source)
{
  if (request == CopyRequest::copy) return CopyMethod::copy;
  if (request != CopyRequest::reflink && try_overlay(source)) return CopyMethod::overlay;
  if (request == CopyRequest::overlay) {
    throw util::Error(util::Location::of(source), "rebuild: --copy overlay: an overlay mount is not permitted here "
                                                  "(it needs CAP_SYS_ADMIN and a lower directory without , or :)");
  }
  if (try_reflink(source)) return CopyMethod::reflink;
  if (request == CopyRequest::reflink) {
    throw util::Error(util::Location::of(source), "rebuild: --copy reflink: this file system cannot clone files "
                                                  "into the temporary directory (FICLONE)");
  }
  return CopyMethod::copy;
}

std::string Scratch::make_copy(const std::string& source, const std::string& run_dir, CopyMethod method)
{
  if (method != CopyMethod::overlay) {
    const std::string tree = run_dir + "/tree";
    copy_tree(source, tree, method);
    return tree;
  }
  const std::string merged = run_dir + "/tree";
  for (const char* sub : {"/tree", "/upper", "/work"}) {
    if (::mkdir((run_dir + sub).c_str(), 0700) != 0) util::throw_errno("cannot create", run_dir + sub);
  }
  const std::string options = "lowerdir=" + source + ",upperdir=" + run_dir + "/upper,workdir=" + run_dir + "/work";
  std::lock_guard lock(m_mutex);
  if (::mount("overlay", merged.c_str(), "overlay", 0, options.c_str()) != 0) {
    util::throw_errno("cannot mount an overlay of the working directory", merged);
  }
  m_mounts.push_back(merged);
  return merged;
}

std::string Scratch::disorderfs_problem()
{
  if (m_disorderfs_problem) return *m_disorderfs_problem;
  std::string problem;
  if (::access("/dev/fuse", R_OK | W_OK) != 0) {
    problem = "no usable /dev/fuse (FUSE)";
  } else {
    const std::string src = make_dir("probe-disorderfs/src");
    const std::string mnt = make_dir("probe-disorderfs/mnt");
    try {
      mount_disorderfs(src, mnt);
      unmount(mnt);
    } catch (const util::Error& e) {
      problem = e.message();
    }
    util::remove_tree(m_root + "/probe-disorderfs");
  }
  m_disorderfs_problem = problem;
  return problem;
}

void Scratch::mount_disorderfs(const std::string& source, const std::string& target)
{
  std::vector<std::string> argv = {"disorderfs", "--quiet", "--sort-dirents=yes", "--reverse-dirents=yes"};
  if (::geteuid() == 0) argv.push_back("--multi-user=yes");
  argv.push_back(source);
  argv.push_back(target);
  const Captured c = capture_command(argv);
  if (!c.exit.ok()) {
    std::string why = c.output;
    while (!why.empty() && why.back() == '\n') why.pop_back();
    const std::size_t nl = why.rfind('\n');
    if (nl != std::string::npos) why = why.substr(nl + 1);
    throw util::Error("disorderfs: " + c.exit.describe() + (why.empty() ? "" : ": " + util::printable(why)));
  }
  std::lock_guard lock(m_mutex);
  m_mounts.push_back(target);
}

void Scratch::unmount(const std::string& target)
{
  if (::umount2(target.c_str(), 0) != 0 && errno != EINVAL) {
    if (::umount2(target.c_str(), MNT_DETACH) != 0) {
      (void)capture_command({"fusermount", "-u", "-z", target});
    }
  }
  std::lock_guard lock(m_mutex);
  for (auto it = m_mounts.begin(); it != m_mounts.end(); ++it) {
    if (*it == target) {
      m_mounts.erase(it);
      break;
    }
  }
}

} // namespace reproimg::verify
