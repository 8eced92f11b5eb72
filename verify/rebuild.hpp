// `reproimg rebuild`: a build run twice (more with --bisect) in fresh copies of the working
// directory under varied conditions, the artifacts compared with diff's one comparer, and each
// difference attributed to the variation that leaked into the build.
#pragma once

#include "diff/compare.hpp"
#include "diff/difference.hpp"
#include "verify/rebuild_attribution.hpp"
#include "verify/rebuild_variations.hpp"
#include "verify/rebuild_workspace.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace reproimg::verify {

struct RebuildOptions {
  std::vector<std::string> command; // CMD [ARGS...], looked up in PATH
  std::string artifact;             // [TRANSPORT:]PATH, PATH relative to the working directory; or docker://REF:TAG
  std::string source = ".";         // the working directory copied for each run
  std::set<Variation> requested{all_variations().begin(), all_variations().end()};
  BisectMode bisect = BisectMode::off;
  unsigned jobs = 1; // runs side by side
  CopyRequest copy = CopyRequest::automatic;
  std::string temp_parent;           // where the runs' copies go ($TMPDIR, else /tmp)
  std::optional<std::int64_t> epoch; // else $SOURCE_DATE_EPOCH, the last commit, 0
  diff::CompareOptions compare;
  std::set<diff::Cause> ignore; // causes dropped from every comparison (as diff --ignore)
  std::size_t tail_lines = 20;  // of a failed build's output
};

enum class EpochSource { option, environment, git, fallback };
// side_by_side: up to --jobs runs at once; one_at_a_time: a docker:// artifact, every run pushes to
// one tag.
enum class RunOrder { side_by_side, one_at_a_time };
const char* epoch_source_name(EpochSource s);

struct RunRecord {
  std::string name; // control, varied, none, or a variation's name
  std::vector<Variation> varied;
};

struct BuildFailure {
  std::string run;
  std::string status; // "exit status 3", ...
  std::string tail;   // the last lines of its output
};

struct RebuildResult {
  std::int64_t epoch = 0;
  EpochSource epoch_source = EpochSource::fallback;
  std::vector<VariationStatus> variations;
  std::vector<RunRecord> runs;
  CopyMethod copy_method = CopyMethod::copy;
  bool private_mounts = false; // runs side by side each see their copy at one path
  RunOrder order = RunOrder::side_by_side;
  BisectMode bisect = BisectMode::off;
  std::string artifact;
  bool identical = false; // every run's artifact is the control's
  diff::DiffResult diff;  // A: control, B: the runs; every record with its variations
  std::optional<BuildFailure> failure;
};

// Throws util::Error for bad options, a missing artifact or a failure of the machine; a build that
// fails is no exception: failure says which run and how.
RebuildResult rebuild(const RebuildOptions& options);

// The runs of a rebuild with these variations varied: control, varied, and with bisect none and
// one per variation.
std::vector<RunRecord> plan_runs(const std::vector<Variation>& varied, BisectMode bisect);

} // namespace reproimg::verify
