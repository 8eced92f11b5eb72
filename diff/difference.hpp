// What `reproimg diff` reports: differences, each with one cause from a fixed list, and a verdict.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace reproimg::diff {

using Json = nlohmann::json;

// The cause list of DESIGN.md ("Causes (diff)"); the order is the order of reports.
enum class Cause {
  format,
  manifest,
  config_created,
  config_history,
  config_field,
  layer_split,
  compression,
  tar_encoding,
  order,
  added,
  removed,
  type,
  content,
  embedded_timestamp,
  volatile_path,
  link_target,
  hardlink,
  mode,
  owner_id,
  owner_name,
  xattr,
  mtime,
  pax_time,
};

const char* cause_name(Cause cause);
std::optional<Cause> parse_cause(const std::string& name);
const std::vector<Cause>& all_causes();
// One line: what the cause means.
const char* cause_description(Cause cause);

struct Difference {
  Cause cause = Cause::content;
  std::string path;             // entry path, "" (layer-wide), or "config:/..." / "manifest:/..."
  std::optional<int> layer;     // layer index (0-based); none for image-level or flattened records
  std::vector<std::pair<std::string, std::pair<Json, Json>>> attributes; // name -> [a, b], in a fixed order
  bool normalizable = false;    // would `reproimg normalize` remove it?
  std::vector<std::string> detail; // content detail: unified diff, hex context, nested-archive fields
  std::string hint;             // set when the report is finished (per cause)
  std::optional<std::int64_t> earliest_time; // mtime records: the earlier of the two (for the epoch hint)

  void add(std::string name, Json a, Json b) { attributes.emplace_back(std::move(name), std::make_pair(std::move(a), std::move(b))); }
};

enum class Verdict { identical, equivalent, different };
const char* verdict_name(Verdict v);

struct CauseSummary {
  std::size_t count = 0;
  bool normalizable = true; // every record of the cause is
  std::string hint;
};

struct DiffResult {
  std::string a;
  std::string b;
  Verdict verdict = Verdict::identical;
  std::vector<Difference> differences; // sorted (see sort_differences)
  std::map<Cause, CauseSummary> summary;
  std::vector<std::string> normalize_options; // for `equivalent`: what normalize needs
  std::vector<std::string> notes;             // what was compared, how (one line each)
};

// The deterministic report order: image-level records, then per layer (none last), path, cause.
void sort_differences(std::vector<Difference>& differences);

} // namespace reproimg::diff
