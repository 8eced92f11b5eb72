// The interrupt thread and the registry of temporary paths it removes.
#include "util/interrupt.hpp"

#include "util/remove_tree.hpp"

#include <cerrno>
#include <csignal>
#include <map>
#include <pthread.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace reproimg::util {

namespace {

struct TempPath {
  std::string path;
  TempKind kind;
  dev_t dev = 0; // its identity when registered (ino 0: unknown)
  ino_t ino = 0;
};

// Never destroyed: an interrupt may come while static objects are being destroyed at exit.
std::recursive_mutex& registry_mutex()
{
  static auto* m = new std::recursive_mutex;
  return *m;
}

std::map<int, TempPath>& registry()
{
  static auto* r = new std::map<int, TempPath>;
  return *r;
}

std::map<int, std::function<void()>>& actions()
{
  static auto* a = new std::map<int, std::function<void()>>;
  return *a;
}

int g_next_id = 0;

bool exists(const std::string& path)
{
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Another thread may still be creating files in the directory while it is removed (it learns
// nothing of the interrupt): removed again until it is gone. Once it is, nothing can be created
// below it, and nothing creates it again (creation and registration wait for the registry lock).
void remove_directory_until_gone(const std::string& path)
{
  for (int attempt = 0; attempt < 200 && exists(path); ++attempt) {
    remove_tree(path);
    if (exists(path)) {
      ::usleep(5000);
    }
  }
}

void remove_registered_locked()
{
  for (const auto& [id, temp] : registry()) {
    if (temp.kind == TempKind::file) {
      ::unlink(temp.path.c_str());
    } else {
      remove_directory_until_gone(temp.path);
    }
  }
}

sigset_t interrupt_signals()
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

[[noreturn]] void wait_for_interrupt(sigset_t signals)
{
  int sig = 0;
  while (::sigwait(&signals, &sig) != 0) {
  }
  // Taken and never given back: a deferred section finishes first, and nothing is created or
  // renamed into place after the clean-up.
  registry_mutex().lock();
  for (const auto& [id, action] : actions()) action();
  remove_registered_locked();
  const char msg[] = "\nreproimg: interrupted\n";
  (void)!::write(2, msg, sizeof msg - 1);
  ::_exit(128 + sig);
}

} // namespace

void start_interrupt_handler()
{
  sigset_t signals = interrupt_signals();
  // An ignored signal is discarded, never waited for: SIGINT and SIGTERM are taken even where the
  // caller ignores them (a shell's background job ignores SIGINT), SIGHUP is left ignored under nohup.
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  struct sigaction hup {};
  if (::sigaction(SIGHUP, nullptr, &hup) == 0 && hup.sa_handler == SIG_IGN) {
    sigdelset(&signals, SIGHUP);
  }
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread(wait_for_interrupt, signals).detach();
}

int register_temp_path(const std::string& path, TempKind kind)
{
  TempPath t{path, kind};
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    t.dev = st.st_dev;
    t.ino = st.st_ino;
  }
  std::lock_guard lock(registry_mutex());
  const int id = g_next_id++;
  registry().emplace(id, std::move(t));
  return id;
}

bool is_temp_path(dev_t dev, ino_t ino)
{
  std::lock_guard lock(registry_mutex());
  for (const auto& [id, t] : registry()) {
    if (t.ino != 0 && t.ino == ino && t.dev == dev) return true;
  }
  return false;
}

void unregister_temp_path(int id)
{
  std::lock_guard lock(registry_mutex());
  registry().erase(id);
}

int register_interrupt_action(std::function<void()> action)
{
  std::lock_guard lock(registry_mutex());
  const int id = g_next_id++;
  actions().emplace(id, std::move(action));
  return id;
}

void unregister_interrupt_action(int id)
{
  std::lock_guard lock(registry_mutex());
  actions().erase(id);
}

void remove_temp_paths_in_flight()
{
  std::lock_guard lock(registry_mutex());
  remove_registered_locked();
}

InterruptDeferral::InterruptDeferral() : m_lock(registry_mutex()) {}

InterruptDeferral::~InterruptDeferral() = default;

} // namespace reproimg::util
