// Which variation each difference of a rebuild is attributed to: the comparisons of every run
// with the control run merged into one result, each record once, with its `variations`; and the
// temporary paths of the runs replaced by fixed names, so that a report does not depend on them.
#pragma once

#include "diff/difference.hpp"
#include "verify/rebuild_variations.hpp"

#include <string>
#include <utility>
#include <vector>

namespace reproimg::verify {

enum class BisectMode { off, on };

// The name a record takes when the runs differ with nothing varied.
inline constexpr const char* k_no_variation = "none";

// One run compared with the control run (A: control, B: this run).
struct RunComparison {
  std::string run;               // "varied", "none", or the one variation's name
  std::vector<Variation> varied; // what the run varied (empty: nothing)
  diff::DiffResult result;
};

// The merged result. comparisons[0] is the run with every variation; with BisectMode::on the
// others are the run with none and one run per variation. A record found by the run with none
// is `none` (inherent non-determinism: every run shows it); else it goes to the variations whose
// run alone shows it; a record no single run shows (or every record, without bisect) goes to every
// variation of the first run, which varied them together. Records are keyed by cause, layer and
// path; the first comparison that has one gives its attributes.
diff::DiffResult attribute_differences(std::vector<RunComparison> comparisons, BisectMode bisect);

// How many records each name ("none" included) has: for the per-variation summary.
std::vector<std::pair<std::string, std::size_t>> attribution_counts(const diff::DiffResult& r);

// Replaces every occurrence of each `from` by its `to` in every string of r (names, notes, paths,
// attribute values, detail lines), in the order given.
void replace_paths(diff::DiffResult& r, const std::vector<std::pair<std::string, std::string>>& replacements);

} // namespace reproimg::verify
