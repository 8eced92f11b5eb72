// Running one build of `reproimg rebuild`, and the small helper commands it needs (git, disorderfs):
// fork and exec with an explicit environment, umask, CPU affinity, an optional private mount
// namespace, the output captured to a file whose tail is shown when the build fails.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace reproimg::verify {

// A directory bound onto another in a mount namespace of the build's own, so that two builds
// running side by side both see their copy at one path.
struct PrivateBind {
  std::string source;
  std::string target;
};

struct Launch {
  std::vector<std::string> argv;          // argv[0] looked up in PATH
  std::map<std::string, std::string> env; // the whole environment
  std::string cwd;
  mode_t umask = 022;
  std::optional<int> cpu;          // pin to this CPU
  std::optional<PrivateBind> bind; // done before chdir(cwd)
  std::string output;              // stdout and stderr go here ("" : /dev/null)
};

enum class ExitKind { exited, signaled, not_started };
struct ProcessExit {
  ExitKind kind = ExitKind::exited;
  int code = 0;      // exit status, or the signal
  std::string error; // not_started: why
  bool ok() const { return kind == ExitKind::exited && code == 0; }
  // "exit status 3", "killed by signal 9", "could not start: ..."
  std::string describe() const;
};

// Runs launch to its end. The child is its own process group, killed on an interrupt, and what is
// left of the group when the child ends is killed too.
ProcessExit run_process(const Launch& launch);

// The last lines of a file (at most max_bytes of them), "" when it cannot be read.
std::string output_tail(const std::string& path, std::size_t lines, std::size_t max_bytes = 8192);

// Runs argv in cwd with this process's environment, stdin from /dev/null; stdout and stderr
// captured together (at most 64 KiB).
struct Captured {
  ProcessExit exit;
  std::string output;
};
Captured capture_command(const std::vector<std::string>& argv, const std::string& cwd = "");

// Can a child enter a mount namespace of its own and bind a directory there (root, or a user with
// CAP_SYS_ADMIN)? Tried once, in a child.
bool private_mounts_available();

} // namespace reproimg::verify
