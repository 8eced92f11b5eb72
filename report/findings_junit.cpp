// The JUnit XML rendering of an audit (Apache Ant's schema): one suite, a test case per check,
// failing when the check has findings at or above --fail-on that the policy does not allow; the
// failure lists them. No clock, no host name (see docs/ci-reports.md).
#include "report/findings.hpp"
#include "report/findings_shared.hpp"
#include "report/shared.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace reproimg::report {

using namespace detail;

namespace {

constexpr std::size_t k_findings_per_failure = 50;

std::string iso_timestamp(std::int64_t seconds)
{
  const std::time_t t = static_cast<std::time_t>(std::clamp<std::int64_t>(seconds, 0, 253402300799));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string testcase(const CheckInfo& c, const AuditResult& r, bool& failed)
{
  std::vector<const Finding*> failing;
  for (const auto& f : r.findings) {
    if (f.check == c.id && !f.allowed && f.severity >= r.fail_on) failing.push_back(&f);
  }
  std::string out = "    <testcase name=\"" + c.id + "\" classname=\"reproimg.audit.checks\" time=\"0\"";
  failed = !failing.empty();
  if (!failed) return out + "/>\n";
  std::string text = util::printable(c.fix) + "\n";
  for (std::size_t i = 0; i < failing.size(); ++i) {
    if (i == k_findings_per_failure) {
      text += "... and " + std::to_string(failing.size() - i) + " more\n";
      break;
    }
    text += finding_line(*failing[i]) + "\n";
  }
  const std::string message = std::to_string(failing.size()) + (failing.size() == 1 ? " finding" : " findings") +
                              " at or above " + severity_name(r.fail_on);
  return out + ">\n      <failure message=\"" + xml_escape(message) + "\" type=\"" +
         severity_name(failing.front()->severity) + "\">" + xml_escape(text, Newlines::keep) +
         "</failure>\n    </testcase>\n";
}

} // namespace

std::string audit_junit(const AuditResult& r, const Check& check)
{
  std::string cases;
  std::size_t failures = 0;
  for (const auto& c : r.checks) {
    bool failed = false;
    cases += testcase(c, r, failed);
    failures += failed ? 1 : 0;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  out += "  <testsuite name=\"checks\" package=\"reproimg.audit\" id=\"0\" timestamp=\"" +
         iso_timestamp(check.timestamp) + "\" hostname=\"localhost\" tests=\"" + std::to_string(r.checks.size()) +
         "\" failures=\"" + std::to_string(failures) + "\" errors=\"0\" skipped=\"0\" time=\"0\">\n";
  out += "    <properties>\n      <property name=\"subject\" value=\"" + xml_escape(r.subject) + "\"/>\n" +
         "      <property name=\"fail_on\" value=\"" + severity_name(r.fail_on) + "\"/>\n" +
         "      <property name=\"verdict\" value=\"" + xml_escape(audit_verdict(r)) + "\"/>\n    </properties>\n";
  out += cases;
  std::string sysout = "verdict: " + audit_verdict(r) + "\n";
  for (const auto& f : r.findings) {
    if (f.allowed) sysout += "allowed: " + finding_line(f) + " (" + util::printable(f.allowed->reason) + ")\n";
  }
  out += "    <system-out>" + xml_escape(sysout, Newlines::keep) + "</system-out>\n    <system-err></system-err>\n";
  return out + "  </testsuite>\n</testsuites>\n";
}

} // namespace reproimg::report
