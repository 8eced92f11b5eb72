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

// The options of `reproimg normalize` that remove an entry record, each on its own. All false: its
// defaults remove it (owner names, pax times, ...), or nothing does (`normalizable` says which).
struct Remedies {
  bool epoch = false;          // --source-date-epoch E, E at or before earliest_time (an mtime)
  bool debian_profile = false; // --profile debian drops the path, or empties the file
  bool exclude = false;        // --exclude PATH: a volatile path, left out of the layer

  bool any() const { return epoch || debian_profile || exclude; }
};

struct Difference {
  Cause cause = Cause::content;
  std::string path;             // entry path, "" (layer-wide), or "config:/..." / "manifest:/..."
  std::optional<int> layer;     // layer index (0-based); none for image-level or flattened records
  std::vector<std::pair<std::string, std::pair<Json, Json>>> attributes; // name -> [a, b], in a fixed order
  bool normalizable = false;    // would `reproimg normalize` remove it?
  std::vector<std::string> detail; // content detail: unified diff, hex context, nested-archive fields
  std::string hint;             // set when the report is finished (per cause)
  std::optional<std::int64_t> earliest_time; // mtime records: the earlier of the two (for the epoch hint)
  Remedies remedies;            // entry records: the options that remove it (see docs/diff-causes.md)
  std::vector<std::string> variations; // rebuild: the variations the record is attributed to (else empty)

  void add(std::string name, Json a, Json b) { attributes.emplace_back(std::move(name), std::make_pair(std::move(a), std::move(b))); }
};

enum class Verdict { identical, equivalent, different };
const char* verdict_name(Verdict v);

struct CauseSummary {
  std::size_t count = 0;
  bool normalizable = true; // every record of the cause is
  std::string hint;
};

// What was compared, so that a report can list the parts that held as well as those that differed.
enum class Scope {
  layers,           // two layers (tars, rootfs directories): one pair, layer 0
  images,           // two images, layers paired by position
  images_flattened, // two images split into layers differently: their flattened filesystems
  image_and_tree,   // an image's flattened filesystem against a layer or rootfs
};

struct DiffResult {
  std::string a;
  std::string b;
  Scope scope = Scope::layers;
  std::size_t layer_pairs = 1; // layers paired by position (Scope::layers: 1; flattened: 0)
  Verdict verdict = Verdict::identical;
  std::vector<Difference> differences; // sorted (see sort_differences)
  std::map<Cause, CauseSummary> summary;
  std::vector<std::string> normalize_options; // the fewest options that remove every normalizable record
  std::vector<std::string> notes;             // what was compared, how (one line each)
};

// The deterministic report order: image-level records, then per layer (none last), path, cause.
void sort_differences(std::vector<Difference>& differences);

} // namespace reproimg::diff
