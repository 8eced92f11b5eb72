// `reproimg rebuild`'s variations: their names, what each does to a run's environment, and whether
// this machine can apply it (with the reason when it cannot).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

namespace reproimg::verify {

// In report order.
enum class Variation { build_path, time, timezone, locale, umask, home, user, env, cpus, file_order };

const char* variation_name(Variation v);
std::optional<Variation> parse_variation(const std::string& name);
const std::vector<Variation>& all_variations();
// "build-path, time, ...": for help texts and refusals.
std::string variation_list();
// What the varied run gets, in one line ("TZ=GMT-14 (control: UTC0)").
std::string variation_description(Variation v);

// What this machine offers the variations; probed once (probe_host), or set by tests.
struct Host {
  std::string faketime_library;   // libfaketime's .so ("" when not installed)
  std::string sorting_locale;     // a locale whose collation differs from C's ("" when none)
  std::optional<int> single_cpu;  // a CPU to pin to when more than one is available
  std::string file_order_problem; // why disorderfs cannot mount here ("" when it can)
};

// Looks for libfaketime, a sorting locale and the CPUs; file_order_problem is left for the
// workspace, which tries a mount (see rebuild_workspace.hpp).
Host probe_host();

enum class VariationState { varied, skipped, not_requested };
struct VariationStatus {
  Variation variation = Variation::build_path;
  VariationState state = VariationState::not_requested;
  std::string reason; // skipped: why
};
const char* variation_state_name(VariationState s);

// Every variation with its state: requested ones vary unless host cannot apply them.
std::vector<VariationStatus> variation_statuses(const std::set<Variation>& requested, const Host& host);

// What a run is given. The environment is complete (nothing else is inherited).
struct RunConditions {
  std::map<std::string, std::string> env;
  mode_t umask = 022;
  std::optional<int> cpu; // pin every process of the build to this CPU
  bool varied_build_path = false;
  bool shuffled_dirents = false; // run on a disorderfs view of the copy
};

// The conditions of a run with `varied` varied and everything else at its control value, on top
// of base (the caller's environment), SOURCE_DATE_EPOCH set to epoch.
RunConditions run_conditions(const std::set<Variation>& varied, const Host& host,
                             const std::map<std::string, std::string>& base, std::int64_t epoch);

// The caller's environment as a map.
std::map<std::string, std::string> current_environment();

} // namespace reproimg::verify
