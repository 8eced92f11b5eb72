// What every rendering of an audit shares: severity names, counts, the verdict line, the order of
// findings, and the one entry that renders an audit in a format.
#include "report/findings.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <tuple>

namespace reproimg::report {

namespace {

const char* const k_severities[] = {"info", "low", "medium", "high", "critical"};

} // namespace

const char* severity_name(Severity s)
{
  return k_severities[static_cast<int>(s)];
}

std::optional<Severity> parse_severity(const std::string& name)
{
  for (int i = 0; i < 5; ++i) {
    if (name == k_severities[i]) return static_cast<Severity>(i);
  }
  return std::nullopt;
}

std::string severity_list()
{
  return "info, low, medium, high or critical";
}

std::vector<std::size_t> severity_counts(const AuditResult& r)
{
  std::vector<std::size_t> counts(5, 0);
  for (const auto& f : r.findings) {
    if (!f.allowed) ++counts[static_cast<int>(f.severity)];
  }
  return counts;
}

std::string audit_verdict(const AuditResult& r)
{
  const auto counts = severity_counts(r);
  std::size_t at_or_above = 0;
  std::size_t below = 0;
  std::string detail;
  for (int i = 4; i >= 0; --i) {
    if (i >= static_cast<int>(r.fail_on)) {
      at_or_above += counts[i];
      if (counts[i] > 0) detail += (detail.empty() ? "" : ", ") + std::to_string(counts[i]) + " " + k_severities[i];
    } else {
      below += counts[i];
    }
  }
  const std::size_t allowed = static_cast<std::size_t>(
      std::count_if(r.findings.begin(), r.findings.end(), [](const Finding& f) { return f.allowed.has_value(); }));
  std::string out = std::string(r.failed ? "FAILED" : "PASSED") + ": " + std::to_string(at_or_above) +
                    (at_or_above == 1 ? " finding" : " findings") + " at or above " + severity_name(r.fail_on);
  if (!detail.empty()) out += " (" + detail + ")";
  out += "; " + std::to_string(below) + " below";
  if (allowed > 0) out += "; " + std::to_string(allowed) + " allowed by the policy";
  return out;
}

void sort_findings(std::vector<Finding>& findings)
{
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    const int la = a.layer ? *a.layer : -1;
    const int lb = b.layer ? *b.layer : -1;
    const std::string& pa = a.paths.empty() ? std::string() : a.paths.front();
    const std::string& pb = b.paths.empty() ? std::string() : b.paths.front();
    return std::make_tuple(-static_cast<int>(a.severity), std::cref(a.check), la, std::cref(pa), std::cref(a.reason)) <
           std::make_tuple(-static_cast<int>(b.severity), std::cref(b.check), lb, std::cref(pb), std::cref(b.reason));
  });
}

std::string render_audit(ReportFormat format, const AuditResult& r, const Check& check, const TextStyle& style)
{
  switch (format) {
  case ReportFormat::text: return audit_text(r, style);
  case ReportFormat::json: return audit_json(r, check);
  case ReportFormat::markdown: return audit_markdown(r, check);
  case ReportFormat::junit: return audit_junit(r, check);
  case ReportFormat::sarif: return audit_sarif(r, check);
  case ReportFormat::github: return audit_github(r, check);
  case ReportFormat::html: break;
  }
  throw util::Error("audit: no html rendering (text, json, markdown, sarif, junit or github)");
}

} // namespace reproimg::report
