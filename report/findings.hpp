// What `reproimg audit` reports: findings, each from one check (a stable ID) at a severity, with
// the layer and paths it is about, a reason and a fix; and the renderings of an audit, one file
// per format (report/findings_NAME.cpp). Deterministic: same audit, same bytes.
#pragma once

#include "report/formats.hpp"
#include "report/report.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace reproimg::report {

enum class Severity { info, low, medium, high, critical };
const char* severity_name(Severity s);
std::optional<Severity> parse_severity(const std::string& name);
// "info, low, medium, high or critical".
std::string severity_list();

// One check as the report describes it (SARIF's rules, the docs' table).
struct CheckInfo {
  std::string id;                    // "setuid"
  std::string group;                 // "reproducibility" or "hygiene"
  Severity severity = Severity::low; // in force (the policy's, else the default)
  std::string description;           // one line: what it looks for
  std::string fix;                   // one line: what removes it
};

// A policy allowance that matched a finding: the finding is kept, marked allowed, with its reason.
struct Allowance {
  std::string pattern; // the path glob ("" : every path)
  std::string reason;
  std::string where; // "policy.yaml:12"
};

struct Finding {
  std::string check;
  Severity severity = Severity::low;
  std::optional<int> layer;                             // none: the image (config, flattened filesystem)
  std::vector<std::string> paths;                       // the first is the one the finding is located at
  std::string reason;                                   // one line
  std::string fix;                                      // one line
  nlohmann::json attributes = nlohmann::json::object(); // figures (sizes, times, counts)
  std::optional<Allowance> allowed;
};

struct AuditResult {
  std::string subject;           // the input as given
  std::string digest;            // manifest digest, blob digest or canonical diff_id
  std::vector<CheckInfo> checks; // every check, in catalog order
  std::vector<Finding> findings; // sorted: severity (highest first), check, layer, path
  Severity fail_on = Severity::high;
  bool failed = false;                             // a finding not allowed at or above fail_on
  nlohmann::json facts = nlohmann::json::object(); // layers, efficiency, epoch: what the checks measured
  std::vector<std::string> notes;
};

// Findings not allowed, per severity (index: Severity).
std::vector<std::size_t> severity_counts(const AuditResult& r);
// "FAILED: 2 findings at or above high (1 critical, 1 high); 5 below; 1 allowed".
std::string audit_verdict(const AuditResult& r);
// The deterministic order of findings.
void sort_findings(std::vector<Finding>& findings);

std::string audit_text(const AuditResult& r, const TextStyle& style);
std::string audit_json(const AuditResult& r, const Check& check);
std::string audit_markdown(const AuditResult& r, const Check& check);
std::string audit_sarif(const AuditResult& r, const Check& check);
std::string audit_junit(const AuditResult& r, const Check& check);
std::string audit_github(const AuditResult& r, const Check& check);
// The one entry: html is not an audit format (refused by the cli before).
std::string render_audit(ReportFormat format, const AuditResult& r, const Check& check, const TextStyle& style);

} // namespace reproimg::report
