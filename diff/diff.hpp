// `reproimg diff`: two images, two layers, or an image against a rootfs, compared top down (manifest
// and config, layers paired by position, entries, contents), every difference tied to a cause.
#pragma once

#include "diff/compare.hpp"
#include "diff/difference.hpp"
#include "image/oci_layout.hpp"
#include "util/progress.hpp"

#include <optional>
#include <set>
#include <string>

namespace reproimg::diff {

struct DiffOptions {
  CompareOptions compare;
  std::set<Cause> ignore;   // --ignore
  bool semantic = false;    // --semantic: drop what normalize removes
  std::optional<image::Platform> platform;
  util::ProgressMode progress = util::ProgressMode::off;
};

// spec: oci:DIR[:tag], oci-archive:FILE[:tag], docker-archive:FILE[:name:tag], a layer tar (any
// compression), dir:PATH (skopeo's directory transport, else a rootfs), or - (a tar on stdin, for
// one side only).
DiffResult run_diff(const std::string& spec_a, const std::string& spec_b, const DiffOptions& options);

// Finishes a result whose differences are collected: drops the ignored causes (and, semantic,
// what normalize removes), sorts, sets the per-cause summary and hints, the verdict and the
// fewest normalize options. verify finishes its results with it, so both speak alike.
void finish_result(DiffResult& result, const std::set<Cause>& ignore, bool semantic);

} // namespace reproimg::diff
