// The SARIF 2.1.0 report, for code-scanning views: a rule per cause present, a result per
// difference (error when normalize does not remove it, warning when it does), located by the
// path inside the image (relative to IMAGE_ROOT) and by layer, config or manifest (docs/ci-reports.md).
#include "report/formats.hpp"
#include "report/shared.hpp"
#include "util/error.hpp"

namespace reproimg::report {

using namespace detail;

namespace {

constexpr const char* k_schema_uri = "https://json.schemastore.org/sarif-2.1.0.json";
constexpr const char* k_root = "IMAGE_ROOT";

Json text_message(const std::string& s)
{
  return Json{{"text", util::printable(s)}};
}

Json rules(const DiffResult& r)
{
  Json out = Json::array();
  for (const auto& [cause, s] : r.summary) {
    Json rule;
    rule["id"] = cause_name(cause);
    rule["name"] = cause_name(cause);
    rule["shortDescription"] = text_message(cause_description(cause));
    rule["help"] = text_message(s.hint);
    rule["defaultConfiguration"] = Json{{"level", s.normalizable ? "warning" : "error"}};
    rule["properties"] = Json{{"normalizable", s.normalizable}};
    out.push_back(std::move(rule));
  }
  return out;
}

// A file's record: the path in the image; a layer's, config's or manifest's: none.
bool has_file(const Difference& d)
{
  return !d.path.empty() && !image_level(d);
}

Json logical_locations(const Difference& d)
{
  Json out = Json::array();
  if (d.layer) {
    const std::string name = "layer " + std::to_string(*d.layer);
    out.push_back(Json{{"name", name}, {"fullyQualifiedName", name}, {"kind", "module"}});
  }
  if (image_level(d) && !d.path.empty()) {
    // "config:/created": the document, then a JSON pointer into it.
    const std::string p = util::printable(d.path);
    const auto colon = p.find(':');
    const std::string document = colon == std::string::npos ? p : p.substr(0, colon);
    out.push_back(Json{{"name", colon == std::string::npos ? p : p.substr(colon + 1)},
                       {"fullyQualifiedName", p},
                       {"kind", document == "config" || document == "manifest" ? "object" : "resource"}});
  }
  return out;
}

Json location(const Difference& d)
{
  Json loc = Json::object();
  if (has_file(d)) {
    loc["physicalLocation"] =
        Json{{"artifactLocation", Json{{"uri", percent_encode_path(d.path)}, {"uriBaseId", k_root}}}};
  }
  const Json logical = logical_locations(d);
  if (!logical.empty()) loc["logicalLocations"] = logical;
  return loc;
}

Json result(const Difference& d, std::size_t rule_index)
{
  Json res;
  res["ruleId"] = cause_name(d.cause);
  res["ruleIndex"] = rule_index;
  res["level"] = d.normalizable ? "warning" : "error";
  const std::string attrs = attribute_line(d);
  res["message"] =
      text_message(std::string(cause_name(d.cause)) + ": " + where(d) + (attrs.empty() ? "" : ": " + attrs));
  const Json loc = location(d);
  if (!loc.empty()) res["locations"] = Json::array({loc});
  // Stable across runs of one comparison, so that a code-scanning view tracks a record.
  res["partialFingerprints"] =
      Json{{"reproimgRecord/v1", std::string(cause_name(d.cause)) + ":" + (d.layer ? std::to_string(*d.layer) : "-") +
                                     ":" + util::printable(d.path)}};
  Json attributes = Json::object();
  for (const auto& [name, v] : d.attributes) attributes[name] = Json::array({v.first, v.second});
  res["properties"] = Json{{"normalizable", d.normalizable}, {"attributes", attributes}};
  if (!d.variations.empty()) res["properties"]["variations"] = d.variations;
  return res;
}

Json run_properties(const DiffResult& r, const Check& check)
{
  Json p{{"command", command_name(check.command)},
         {"a", util::printable(r.a)},
         {"b", util::printable(r.b)},
         {"verdict", verdict_name(r.verdict)},
         {"verdictText", util::printable(verdict_sentence(r))},
         {"normalizeOptions", r.normalize_options}};
  if (!check.headline.empty()) p["headline"] = util::printable(check.headline);
  return p;
}

} // namespace

std::string percent_encode_path(const std::string& path)
{
  static const char* const hex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~' || c == '/';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  // A leading '/' would make the reference absolute: the path is relative to the image root.
  const size_t slashes = out.find_first_not_of('/');
  return slashes == std::string::npos ? std::string() : out.substr(slashes);
}

std::string report_sarif(const DiffResult& r, const Check& check)
{
  Json driver{{"name", "reproimg"}, {"rules", rules(r)}};
  if (!check.tool_version.empty()) driver["version"] = check.tool_version;
  std::map<Cause, std::size_t> rule_index;
  for (const auto& [cause, s] : r.summary) rule_index.emplace(cause, rule_index.size());
  Json results = Json::array();
  for (const auto& d : r.differences) results.push_back(result(d, rule_index[d.cause]));
  Json run;
  run["tool"] = Json{{"driver", driver}};
  run["originalUriBaseIds"] =
      Json{{k_root, Json{{"description", text_message("the root of the image's filesystem: of each layer (see the "
                                                      "result's logical location) or of the flattened tree")}}}};
  run["results"] = results;
  run["columnKind"] = "unicodeCodePoints";
  run["properties"] = run_properties(r, check);
  Json doc{{"$schema", k_schema_uri}, {"version", "2.1.0"}, {"runs", Json::array({run})}};
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

} // namespace reproimg::report
