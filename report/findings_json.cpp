// The JSON rendering of an audit: the versioned document of docs/audit-report.schema.json
// (`reproimg-audit/1`), keys sorted, two-space indent.
#include "report/findings.hpp"

#include "util/error.hpp"

namespace reproimg::report {

namespace {

using Json = nlohmann::json;

Json finding_json(const Finding& f)
{
  Json paths = Json::array();
  for (const auto& p : f.paths) paths.push_back(util::printable(p));
  Json out{{"check", f.check},
           {"severity", severity_name(f.severity)},
           {"layer", f.layer ? Json(*f.layer) : Json(nullptr)},
           {"paths", paths},
           {"reason", util::printable(f.reason)},
           {"fix", util::printable(f.fix)},
           {"attributes", f.attributes},
           {"allowed", nullptr}};
  if (f.allowed) {
    out["allowed"] = Json{{"pattern", util::printable(f.allowed->pattern)},
                          {"reason", util::printable(f.allowed->reason)},
                          {"where", util::printable(f.allowed->where)}};
  }
  return out;
}

} // namespace

std::string audit_json(const AuditResult& r, const Check& check)
{
  Json checks = Json::array();
  for (const auto& c : r.checks) {
    checks.push_back({{"id", c.id},
                      {"group", c.group},
                      {"severity", severity_name(c.severity)},
                      {"description", c.description},
                      {"fix", c.fix}});
  }
  Json findings = Json::array();
  for (const auto& f : r.findings) findings.push_back(finding_json(f));
  Json counts = Json::object();
  const auto n = severity_counts(r);
  for (int i = 0; i < 5; ++i) counts[severity_name(static_cast<Severity>(i))] = n[static_cast<std::size_t>(i)];
  Json doc{{"schema", "reproimg-audit/1"},
           {"subject", util::printable(r.subject)},
           {"digest", r.digest},
           {"fail_on", severity_name(r.fail_on)},
           {"result", r.failed ? "FAILED" : "PASSED"},
           {"verdict", audit_verdict(r)},
           {"counts", counts},
           {"checks", checks},
           {"findings", findings},
           {"facts", r.facts},
           {"notes", r.notes}};
  if (!check.tool_version.empty()) doc["tool_version"] = check.tool_version;
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

} // namespace reproimg::report
