// The markdown rendering of an audit, for a job summary or a pull request: the verdict, a table
// of checks with findings, a collapsible section per check.
#include "report/findings.hpp"
#include "report/findings_shared.hpp"
#include "report/shared.hpp"

#include "util/error.hpp"

#include <map>

namespace reproimg::report {

using namespace detail;

namespace {

std::string section(const CheckInfo& c, const std::vector<const Finding*>& fs)
{
  std::string out = "<details><summary><code>" + c.id + "</code> (" + severity_name(c.severity) +
                    "): " + std::to_string(fs.size()) + "</summary>\n\n" + md_text(c.fix) + "\n\n";
  out += "| severity | where | reason | allowed |\n|---|---|---|---|\n";
  for (const Finding* f : fs) {
    out += "| " + std::string(severity_name(f->severity)) + " | " + md_code(finding_where(*f)) + " | " +
           md_escape(util::printable(f->reason)) + " | " +
           (f->allowed ? md_escape(util::printable(f->allowed->reason)) : std::string()) + " |\n";
  }
  return out + "\n</details>\n\n";
}

} // namespace

std::string audit_markdown(const AuditResult& r, const Check&)
{
  std::string out = "## reproimg audit: " + md_escape(audit_verdict(r)) + "\n\n";
  out += "Subject: " + md_code(util::printable(r.subject)) + (r.digest.empty() ? "" : " " + md_code(r.digest)) + "\n\n";
  std::map<std::string, std::vector<const Finding*>> by_check;
  for (const auto& f : r.findings) by_check[f.check].push_back(&f);
  if (by_check.empty()) return out + "No findings.\n";
  out += "| check | severity | findings | allowed |\n|---|---|---|---|\n";
  for (const auto& c : r.checks) {
    const auto it = by_check.find(c.id);
    if (it == by_check.end()) continue;
    std::size_t allowed = 0;
    for (const Finding* f : it->second) allowed += f->allowed ? 1 : 0;
    out += "| `" + c.id + "` | " + severity_name(c.severity) + " | " + std::to_string(it->second.size() - allowed) +
           " | " + std::to_string(allowed) + " |\n";
  }
  out += "\n";
  for (const auto& c : r.checks) {
    const auto it = by_check.find(c.id);
    if (it != by_check.end()) out += section(c, it->second);
  }
  return out;
}

} // namespace reproimg::report
