// `reproimg verify`: a rebuild checked against a lock at a level (bit, canonical, files), every
// difference explained by diff's one comparer with the lock as side A.
#pragma once

#include "diff/compare.hpp"
#include "diff/difference.hpp"
#include "verify/lock.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reproimg::verify {

// bit: manifest and every blob equal. canonical: every canonical diff_id (and the canonical
// config) equal under the lock's policy. files: every locked file equal but for what the policy
// normalises. Each holds when the one before it does.
enum class Level { bit, canonical, files };
const char* level_name(Level level);
std::optional<Level> parse_level(const std::string& name);

struct VerifyOptions {
  Level level = Level::bit;
  diff::CompareOptions compare;
  util::ProgressMode progress = util::ProgressMode::off;
};

// What verify found at one level.
enum class Outcome { holds, differs, unchecked };

struct Subject {
  std::string name;   // the input as given, with its platform for an index
  std::string digest; // manifest digest (an image), blob digest (a layer), canonical diff_id (a rootfs)
};

struct VerifyResult {
  Level level = Level::bit;
  bool passed = false;
  Outcome bit = Outcome::unchecked;
  Outcome canonical = Outcome::unchecked;
  Outcome files = Outcome::unchecked;
  std::string summary;           // "canonical match; bit-level differs: compression"
  diff::DiffResult diff;         // A: the lock, B: the rebuild (raw differences, diff's causes and hints)
  std::vector<diff::Difference> failing; // the records that fail the level asked for
  std::vector<Subject> subjects;
  // "layer N canonical diff_id sha256:... (lock) vs sha256:..." for each layer that differs there.
  std::vector<std::string> canonical_differences;
};

// lock_name: the lock file as given (for the report's side A).
VerifyResult verify_against_lock(const std::string& spec, const Lock& lock, const std::string& lock_name,
                                 const VerifyOptions& options);

// A file as the policy leaves it (nullopt: the policy drops it), for the files level.
std::optional<LockedFile> as_normalized(const LockedFile& f, const normalize::Policy& policy);

} // namespace reproimg::verify
