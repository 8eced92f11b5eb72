// Starting builds and helpers for `reproimg rebuild` (see rebuild_process.hpp).
#include "verify/rebuild_process.hpp"

#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "verify/rebuild_variations.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <sched.h>
#include <set>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace reproimg::verify {

namespace {

// The process groups of running builds: killed by the interrupt thread before it removes the
// temporary directories they write in.
std::mutex& groups_mutex()
{
  static auto* m = new std::mutex;
  return *m;
}

std::set<pid_t>& running_groups()
{
  static auto* s = new std::set<pid_t>;
  return *s;
}

void kill_running_groups()
{
  // The group, and the child itself in case it has not made its group yet; then reaped, so that
  // no build outlives this process, not even as a zombie.
  std::lock_guard lock(groups_mutex());
  for (const pid_t pgid : running_groups()) {
    ::kill(-pgid, SIGKILL);
    ::kill(pgid, SIGKILL);
  }
  for (const pid_t pid : running_groups()) ::waitpid(pid, nullptr, 0);
}

void ensure_interrupt_action()
{
  static const int id = util::register_interrupt_action(kill_running_groups);
  (void)id;
}

// What the child needs, prepared before fork (after it, only async-signal-safe calls).
struct Prepared {
  std::vector<std::string> env_strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

Prepared prepare(const Launch& launch)
{
  Prepared p;
  for (const auto& [k, v] : launch.env) p.env_strings.push_back(k + "=" + v);
  for (const auto& a : launch.argv) p.argv.push_back(const_cast<char*>(a.c_str()));
  p.argv.push_back(nullptr);
  for (auto& e : p.env_strings) p.envp.push_back(e.data());
  p.envp.push_back(nullptr);
  return p;
}

[[noreturn]] void child_fail(int report_fd, int err)
{
  (void)!::write(report_fd, &err, sizeof err);
  ::_exit(127);
}

// In the child: everything but the exec. Reports errno on report_fd and exits on failure.
[[noreturn]] void child(const Launch& launch, const Prepared& p, int out_fd, int report_fd)
{
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::setpgid(0, 0);
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(out_fd, 2) < 0)
    child_fail(report_fd, errno);
  if (launch.bind) {
    if (::unshare(CLONE_NEWNS) != 0) child_fail(report_fd, errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(report_fd, errno);
    if (::mount(launch.bind->source.c_str(), launch.bind->target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      child_fail(report_fd, errno);
    }
  }
  if (!launch.cwd.empty() && ::chdir(launch.cwd.c_str()) != 0) child_fail(report_fd, errno);
  ::umask(launch.umask);
  if (launch.cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(*launch.cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) child_fail(report_fd, errno);
  }
  ::execvpe(p.argv[0], p.argv.data(), p.envp.data());
  child_fail(report_fd, errno);
}

int open_output(const std::string& path)
{
  const int fd = path.empty() ? ::open("/dev/null", O_WRONLY | O_CLOEXEC)
                              : ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) util::throw_errno("cannot create the build's output file", path.empty() ? "/dev/null" : path);
  return fd;
}

} // namespace

std::string ProcessExit::describe() const
{
  switch (kind) {
  case ExitKind::exited: return "exit status " + std::to_string(code);
  case ExitKind::signaled: return "killed by signal " + std::to_string(code) + " (" + ::strsignal(code) + ")";
  case ExitKind::not_started: return "could not start: " + error;
  }
  return "";
}

ProcessExit run_process(const Launch& launch)
{
  if (launch.argv.empty()) throw util::Error("rebuild: no command to run");
  ensure_interrupt_action();
  const Prepared p = prepare(launch);
  const int out_fd = open_output(launch.output);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    ::close(out_fd);
    util::throw_errno("cannot create a pipe", "rebuild");
  }
  pid_t pid = 0;
  {
    std::lock_guard lock(groups_mutex());
    pid = ::fork();
    if (pid == 0) child(launch, p, out_fd, report[1]);
    if (pid > 0) running_groups().insert(pid);
  }
  const int fork_errno = errno;
  ::close(out_fd);
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    errno = fork_errno;
    util::throw_errno("cannot start a build", launch.argv[0]);
  }
  ::setpgid(pid, pid); // also in the child: whichever runs first
  int child_errno = 0;
  const ssize_t got = ::read(report[0], &child_errno, sizeof child_errno);
  ::close(report[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  {
    // What the build left running in its group (a daemon, a background job) goes with it: nothing
    // may write into the copy while it is compared.
    std::lock_guard lock(groups_mutex());
    ::kill(-pid, SIGKILL);
    running_groups().erase(pid);
  }
  ProcessExit out;
  if (got == static_cast<ssize_t>(sizeof child_errno)) {
    out.kind = ExitKind::not_started;
    out.error = launch.argv[0] + ": " + std::strerror(child_errno);
  } else if (WIFSIGNALED(status)) {
    out.kind = ExitKind::signaled;
    out.code = WTERMSIG(status);
  } else {
    out.code = WEXITSTATUS(status);
  }
  return out;
}

std::string output_tail(const std::string& path, std::size_t lines, std::size_t max_bytes)
{
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  struct stat st {};
  std::string data;
  if (::fstat(fd, &st) == 0) {
    const off_t start = st.st_size > static_cast<off_t>(max_bytes) ? st.st_size - static_cast<off_t>(max_bytes) : 0;
    data.resize(static_cast<std::size_t>(st.st_size - start));
    const ssize_t n = ::pread(fd, data.data(), data.size(), start);
    data.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  }
  ::close(fd);
  if (!data.empty() && data.back() == '\n') data.pop_back();
  std::size_t pos = data.size();
  for (std::size_t n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) {
    pos = data.rfind('\n', pos - 1);
  }
  return pos == std::string::npos || pos == 0 ? data : data.substr(pos + 1);
}

Captured capture_command(const std::vector<std::string>& argv, const std::string& cwd)
{
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/reproimg-capture.XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  int fd = -1;
  {
    util::InterruptDeferral defer;
    fd = ::mkstemp(buf.data());
    if (fd < 0) util::throw_errno("cannot create a temporary file", pattern);
  }
  ::close(fd);
  const std::string path(buf.data());
  Launch launch;
  launch.argv = argv;
  launch.env = current_environment();
  launch.cwd = cwd;
  launch.output = path;
  Captured c;
  try {
    c.exit = run_process(launch);
  } catch (...) {
    ::unlink(path.c_str());
    throw;
  }
  c.output = output_tail(path, 100000, 64 * 1024);
  ::unlink(path.c_str());
  return c;
}

bool private_mounts_available()
{
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    const bool ok = ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
                    ::mount("/", "/", nullptr, MS_BIND, nullptr) == 0;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

} // namespace reproimg::verify
