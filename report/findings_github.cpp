// GitHub Actions workflow commands for an audit: a ::notice line with the verdict, then a line
// per check with open findings (::error at or above --fail-on, else ::warning) with the count,
// the first paths and the fix; every value escaped as the runner reads it.
#include "report/findings.hpp"
#include "report/findings_shared.hpp"

#include "util/error.hpp"

#include <map>

namespace reproimg::report {

using namespace detail;

std::string audit_github(const AuditResult& r, const Check&)
{
  std::string out = github_command("notice", std::string("reproimg audit: ") + (r.failed ? "FAILED" : "PASSED"),
                                   util::printable(audit_verdict(r)));
  std::map<std::string, std::vector<const Finding*>> open;
  for (const auto& f : r.findings) {
    if (!f.allowed) open[f.check].push_back(&f);
  }
  for (const auto& c : r.checks) {
    const auto it = open.find(c.id);
    if (it == open.end()) continue;
    bool failing = false;
    std::string where;
    for (std::size_t i = 0; i < it->second.size(); ++i) {
      failing = failing || it->second[i]->severity >= r.fail_on;
      if (i < 5) where += (i ? "; " : "") + finding_where(*it->second[i]);
    }
    const std::string count = std::to_string(it->second.size()) + (it->second.size() == 1 ? " finding" : " findings");
    out += github_command(failing ? "error" : "warning", "reproimg audit: " + c.id + " (" + count + ")",
                          count + ": " + where + (it->second.size() > 5 ? "; ..." : "") + ". Fix: " + c.fix);
  }
  return out;
}

} // namespace reproimg::report
