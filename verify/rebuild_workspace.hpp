// Where `reproimg rebuild`'s builds run: a temporary root (always removed, mounts undone, also on
// an interrupt) holding one copy of the working directory per run, made as cheaply as this file
// system allows without letting a build change the original or another copy: an overlay mount
// (the original as its read-only lower layer), else reflinks (FICLONE), else a plain copy
// (copy_file_range). A disorderfs view of a copy for the file-order variation.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace reproimg::verify {

enum class CopyMethod { overlay, reflink, copy };
enum class CopyRequest { automatic, overlay, reflink, copy };
const char* copy_method_name(CopyMethod m);
std::optional<CopyRequest> parse_copy_request(const std::string& name);

// Copies the tree at from to to (which must not exist), as `cp -a` does: types, modes, owners
// (when permitted), times, hardlinks, symlinks, fifos and devices, extended attributes. Files are
// cloned (FICLONE) when method is reflink and the file system can, else copied in the kernel.
void copy_tree(const std::string& from, const std::string& to, CopyMethod method);

// The temporary root of one rebuild: created under parent (reproimg-rebuild.N, the first N free),
// removed with everything in it (mounts
// undone first) on destruction and on an interrupt.
class Scratch {
public:
  explicit Scratch(const std::string& parent);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const std::string& root() const { return m_root; }
  // Creates root/relative (and its parents); returns the absolute path.
  std::string make_dir(const std::string& relative);

  // The first method of the request that works here (automatic: overlay, reflink, copy), tried on
  // source; throws util::Error when one asked for by name does not.
  CopyMethod choose(CopyRequest request, const std::string& source);
  // The copy of source for a run, under run_dir; returns where the copy is seen.
  std::string make_copy(const std::string& source, const std::string& run_dir, CopyMethod method);
  // Why disorderfs cannot mount here, tried once ("" when it can).
  std::string disorderfs_problem();
  // A disorderfs view of source at target (entries listed in reverse sorted order).
  void mount_disorderfs(const std::string& source, const std::string& target);
  // Undoes a mount made by this scratch (lazily when busy).
  void unmount(const std::string& target);

private:
  bool try_overlay(const std::string& source);
  bool try_reflink(const std::string& source);

  std::string m_root;
  int m_temp_id = -1;
  int m_action_id = -1;
  std::mutex m_mutex;
  std::vector<std::string> m_mounts; // shared with the interrupt action
  std::optional<std::string> m_disorderfs_problem;
};

} // namespace reproimg::verify
