// What an interrupted run must not leave behind: the temporary files and directories being written,
// registered while they exist and removed by the one thread that takes SIGINT, SIGTERM and SIGHUP.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <sys/types.h>

namespace reproimg::util {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, and so in every thread started after
// it, and starts the thread that waits for them: it removes every registered temporary path
// (normal code, not a signal handler: a recursive removal is not async-signal-safe), says
// "interrupted" on stderr and exits 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
// SIGINT and SIGTERM are taken even where the caller ignores them (a shell's background job
// ignores SIGINT); an ignored SIGHUP (nohup) stays ignored. Call first in main, before any other
// thread exists. Without it (unit tests) the signals keep
// their default action and the registrations only serve remove_temp_paths_in_flight().
void start_interrupt_handler();

enum class TempKind { file, directory };

// Registers path (a temporary file, or a directory with everything in it) for removal on an
// interrupt until unregister_temp_path(id). Call both under an InterruptDeferral that also
// covers the creation (or the rename away) of the path, so that no interrupt falls in between.
int register_temp_path(const std::string& path, TempKind kind);
void unregister_temp_path(int id);
// Whether a file or directory is one of the temporary paths registered now (by its device and
// inode): an output this process is still writing, which a directory being read passes over.
bool is_temp_path(dev_t dev, ino_t ino);

// Registers an action the interrupt thread runs before it removes the registered paths (killing
// the processes a command started, unmounting what it mounted), until unregister_interrupt_action.
// It runs on the interrupt thread with the registry locked: it must not register or unregister.
int register_interrupt_action(std::function<void()> action);
void unregister_interrupt_action(int id);

// Removes every registered path now (what the interrupt thread does before it exits).
void remove_temp_paths_in_flight();

// While one lives, an interrupt waits: a path created and registered, or renamed into place and
// unregistered, under it is never half done when the interrupt thread cleans up. Hold it briefly.
class InterruptDeferral {
public:
  InterruptDeferral();
  ~InterruptDeferral();
  InterruptDeferral(const InterruptDeferral&) = delete;
  InterruptDeferral& operator=(const InterruptDeferral&) = delete;

private:
  std::unique_lock<std::recursive_mutex> m_lock;
};

} // namespace reproimg::util
