// The SARIF 2.1.0 rendering of an audit, for code-scanning views: a rule per check (every check,
// so that the view lists them all), a result per finding located by its path in the image
// (relative to IMAGE_ROOT) and its layer; an allowed finding carries an external suppression with
// the policy's reason.
#include "report/findings.hpp"
#include "report/findings_shared.hpp"

#include "util/error.hpp"

#include <map>

namespace reproimg::report {

using namespace detail;

namespace {

using Json = nlohmann::json;

constexpr const char* k_root = "IMAGE_ROOT";

Json text_message(const std::string& s)
{
  return Json{{"text", util::printable(s)}};
}

const char* level_of(Severity s)
{
  switch (s) {
  case Severity::critical:
  case Severity::high: return "error";
  case Severity::medium: return "warning";
  default: return "note";
  }
}

// GitHub code scanning reads a CVSS-like score from the rule's properties.
const char* security_severity(Severity s)
{
  switch (s) {
  case Severity::critical: return "9.5";
  case Severity::high: return "8.0";
  case Severity::medium: return "5.5";
  case Severity::low: return "3.0";
  case Severity::info: return "0.0";
  }
  return "0.0";
}

Json rule_of(const CheckInfo& c)
{
  return Json{
      {"id", c.id},
      {"name", c.id},
      {"shortDescription", text_message(c.description)},
      {"help", text_message(c.fix)},
      {"defaultConfiguration", Json{{"level", level_of(c.severity)}}},
      {"properties", Json{{"tags", Json::array({c.group})}, {"security-severity", security_severity(c.severity)}}}};
}

Json result_of(const Finding& f, std::size_t rule_index)
{
  Json res{{"ruleId", f.check},
           {"ruleIndex", rule_index},
           {"level", level_of(f.severity)},
           {"message", text_message(f.reason + " (" + finding_where(f) + "). Fix: " + f.fix)}};
  Json loc = Json::object();
  if (!f.paths.empty() && f.paths.front().rfind("config:", 0) != 0) {
    loc["physicalLocation"] =
        Json{{"artifactLocation", Json{{"uri", percent_encode_path(f.paths.front())}, {"uriBaseId", k_root}}}};
  }
  const std::string name = f.layer ? "layer " + std::to_string(*f.layer) : std::string("image");
  loc["logicalLocations"] = Json::array({Json{{"name", name}, {"fullyQualifiedName", name}, {"kind", "module"}}});
  res["locations"] = Json::array({loc});
  res["partialFingerprints"] =
      Json{{"reproimgFinding/v1", f.check + ":" + (f.layer ? std::to_string(*f.layer) : "-") + ":" +
                                      util::printable(f.paths.empty() ? std::string() : f.paths.front())}};
  if (f.allowed) {
    res["suppressions"] =
        Json::array({Json{{"kind", "external"}, {"justification", util::printable(f.allowed->reason)}}});
  }
  Json paths = Json::array();
  for (const auto& p : f.paths) paths.push_back(util::printable(p));
  res["properties"] = Json{{"severity", severity_name(f.severity)}, {"paths", paths}, {"attributes", f.attributes}};
  return res;
}

} // namespace

std::string audit_sarif(const AuditResult& r, const Check& check)
{
  Json rules = Json::array();
  std::map<std::string, std::size_t> index;
  for (const auto& c : r.checks) {
    index.emplace(c.id, rules.size());
    rules.push_back(rule_of(c));
  }
  Json driver{{"name", "reproimg"}, {"rules", rules}};
  if (!check.tool_version.empty()) driver["version"] = check.tool_version;
  Json results = Json::array();
  for (const auto& f : r.findings) results.push_back(result_of(f, index[f.check]));
  Json run;
  run["tool"] = Json{{"driver", driver}};
  run["originalUriBaseIds"] =
      Json{{k_root, Json{{"description", text_message("the root of the image's filesystem (of the result's layer)")}}}};
  run["results"] = results;
  run["columnKind"] = "unicodeCodePoints";
  run["properties"] = Json{{"command", "audit"},
                           {"subject", util::printable(r.subject)},
                           {"digest", r.digest},
                           {"failOn", severity_name(r.fail_on)},
                           {"verdict", audit_verdict(r)}};
  Json doc{
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"}, {"version", "2.1.0"}, {"runs", Json::array({run})}};
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

} // namespace reproimg::report
