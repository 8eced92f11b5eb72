// The text rendering of an audit, for a terminal: the verdict, a line per check with findings,
// then every finding with its reason and fix (allowed ones last, with the policy's reason).
#include "report/findings.hpp"
#include "report/findings_shared.hpp"

#include "util/error.hpp"

#include <map>

namespace reproimg::report {

using namespace detail;

namespace {

const char* color_of(Severity s)
{
  switch (s) {
  case Severity::critical:
  case Severity::high: return "\033[31m";
  case Severity::medium: return "\033[33m";
  default: return "\033[36m";
  }
}

std::string finding_block(const Finding& f, const TextStyle& style)
{
  std::string sev = severity_name(f.severity);
  if (style.color) sev = color_of(f.severity) + sev + "\033[0m";
  std::string out = sev + " " + f.check + " " + finding_where(f) + "\n    " + util::printable(f.reason) + "\n";
  for (std::size_t i = 1; i < f.paths.size(); ++i) {
    if (style.examples_per_cause != 0 && i > style.examples_per_cause) {
      out += "    ... and " + std::to_string(f.paths.size() - i) + " more paths\n";
      break;
    }
    out += "    also " + util::printable(f.paths[i]) + "\n";
  }
  out += "    fix: " + util::printable(f.fix) + "\n";
  if (f.allowed) {
    out += "    allowed by " + util::printable(f.allowed->where) + ": " + util::printable(f.allowed->reason) + "\n";
  }
  return out;
}

} // namespace

std::string audit_text(const AuditResult& r, const TextStyle& style)
{
  std::string out = "audit: " + audit_verdict(r) + "\n";
  out += "subject: " + util::printable(r.subject) + (r.digest.empty() ? "" : " (" + r.digest + ")") + "\n";
  std::map<std::string, std::pair<std::size_t, std::size_t>> per_check; // open, allowed
  for (const auto& f : r.findings) ++(f.allowed ? per_check[f.check].second : per_check[f.check].first);
  for (const auto& c : r.checks) {
    const auto it = per_check.find(c.id);
    if (it == per_check.end()) continue;
    out += "  " + c.id + " (" + severity_name(c.severity) + "): " + std::to_string(it->second.first) + " open";
    if (it->second.second) out += ", " + std::to_string(it->second.second) + " allowed";
    out += "\n";
  }
  for (const auto& n : r.notes) out += "note: " + util::printable(n) + "\n";
  for (const bool allowed : {false, true}) {
    for (const auto& f : r.findings) {
      if (f.allowed.has_value() == allowed) out += "\n" + finding_block(f, style);
    }
  }
  return out;
}

} // namespace reproimg::report
