// The normalisation report.
#include "normalize/report.hpp"

namespace reproimg::normalize {

void Report::note(const std::string& rule, const std::string& path)
{
  auto& stat = m_rules[rule];
  ++stat.count;
  if (stat.examples.size() < k_max_examples) {
    stat.examples.push_back(path);
  }
}

void Report::warn(const std::string& message)
{
  // Bounded: a hostile archive can produce a warning per entry.
  if (m_warnings.size() < 1000) {
    m_warnings.push_back(message);
  }
}

std::uint64_t Report::count(const std::string& rule) const
{
  const auto it = m_rules.find(rule);
  return it == m_rules.end() ? 0 : it->second.count;
}

} // namespace reproimg::normalize

#include "normalize/layer_options.hpp"
#include "normalize/policy.hpp"

#include <nlohmann/json.hpp>

namespace reproimg::normalize {

namespace {

// Every string in a report is shown printable: paths can hold any bytes, JSON wants UTF-8.
std::string j(const std::string& s);

} // namespace

std::string report_to_json(const Report& report, const Policy& policy, const std::string& input,
                           const LayerResult& result, const std::string& compression)
{
  nlohmann::json doc;
  doc["schema"] = "reproimg-normalize-report/2";
  doc["input"] = j(input);
  doc["input_compression"] = result.input_compression;
  nlohmann::json opts;
  opts["source_date_epoch"] = policy.epoch;
  opts["mtime_policy"] = policy.mtime == MtimePolicy::clamp ? "clamp" : "set";
  if (policy.owner) {
    opts["owner"] = std::to_string(policy.owner->first) + ":" + std::to_string(policy.owner->second);
  }
  nlohmann::json maps = nlohmann::json::array();
  for (const auto& [from, to] : policy.uid_map) maps.push_back("u:" + std::to_string(from) + "=" + std::to_string(to));
  for (const auto& [from, to] : policy.gid_map) maps.push_back("g:" + std::to_string(from) + "=" + std::to_string(to));
  opts["owner_map"] = maps;
  opts["keep_names"] = policy.keep_names;
  opts["xattrs"] = policy.xattrs == XattrPolicy::all ? "all" : policy.xattrs == XattrPolicy::none ? "none" : "capability";
  nlohmann::json ex = nlohmann::json::array();
  for (const auto& g : policy.excludes) ex.push_back(j(g));
  opts["exclude"] = ex;
  nlohmann::json tr = nlohmann::json::array();
  for (const auto& g : policy.truncates) tr.push_back(j(g));
  opts["truncate"] = tr;
  opts["profiles"] = policy.profiles;
  opts["compression"] = compression;
  doc["options"] = opts;
  doc["entries_in"] = report.entries_in;
  doc["entries_out"] = report.entries_out;
  doc["tar_bytes_out"] = result.tar_size;
  if (!result.diff_id.empty()) {
    doc["diff_id"] = result.diff_id;
    doc["blob_digest"] = result.blob_digest;
    doc["blob_size"] = result.blob_size;
  }
  // What wrote the blob: its bytes (and so the blob digest) depend on the library and its version.
  if (result.compressor.library.empty()) {
    doc["compressor"] = nullptr;
  } else {
    doc["compressor"] = {{"library", result.compressor.library},
                         {"version", result.compressor.version},
                         {"known_answer", result.compressor.known_answer}};
  }
  nlohmann::json rules = nlohmann::json::object();
  for (const auto& [name, stat] : report.rules()) {
    nlohmann::json examples = nlohmann::json::array();
    for (const auto& e : stat.examples) examples.push_back(j(e));
    rules[name] = {{"count", stat.count}, {"examples", examples}};
  }
  doc["changes"] = rules;
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto& w : report.warnings()) warnings.push_back(j(w));
  doc["warnings"] = warnings;
  return doc.dump(2) + "\n";
}

} // namespace reproimg::normalize

#include "util/error.hpp"

namespace reproimg::normalize {
namespace {
std::string j(const std::string& s)
{
  return util::printable(s);
}
} // namespace
} // namespace reproimg::normalize
