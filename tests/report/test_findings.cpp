// The audit's renderings: the order of findings, the verdict, the failing threshold in JUnit and
// GitHub, SARIF's rule per check and suppression, and paths that need escaping.
#include "report/findings.hpp"

#include <boost/test/unit_test.hpp>

using namespace reproimg;
using namespace reproimg::report;

namespace {

Finding finding(const std::string& check, Severity s, std::optional<int> layer, const std::string& path)
{
  Finding f;
  f.check = check;
  f.severity = s;
  f.layer = layer;
  if (!path.empty()) f.paths.push_back(path);
  f.reason = check + " reason";
  f.fix = check + " fix";
  return f;
}

AuditResult sample()
{
  AuditResult r;
  r.subject = "oci:img";
  r.checks = {{"setuid", "hygiene", Severity::medium, "setuid files", "chmod"},
              {"private-key", "hygiene", Severity::high, "keys", "remove"},
              {"wasted-space", "hygiene", Severity::low, "waste", "squash"}};
  r.findings = {finding("wasted-space", Severity::low, std::nullopt, "a"),
                finding("setuid", Severity::medium, 0, "usr/bin/su"),
                finding("private-key", Severity::high, 1, "root/<key>&\n::error::x"),
                finding("setuid", Severity::medium, 0, "usr/bin/passwd")};
  r.findings[3].allowed = Allowance{"usr/bin/passwd", "users change passwords", "p.yaml:4"};
  sort_findings(r.findings);
  r.fail_on = Severity::high;
  r.failed = true;
  return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(findings)

BOOST_AUTO_TEST_CASE(order_and_verdict)
{
  const AuditResult r = sample();
  BOOST_TEST(r.findings[0].check == "private-key");
  BOOST_TEST(r.findings[1].paths[0] == "usr/bin/passwd");
  BOOST_TEST(r.findings[3].check == "wasted-space");
  BOOST_TEST(audit_verdict(r) == "FAILED: 1 finding at or above high (1 high); 2 below; 1 allowed by the policy");
  BOOST_TEST((parse_severity("critical") == Severity::critical));
  BOOST_TEST(!parse_severity("severe").has_value());
}

BOOST_AUTO_TEST_CASE(formats)
{
  const AuditResult r = sample();
  const Check check{Command::audit, "", 1700000000, "1.0"};
  const std::string sarif = audit_sarif(r, check);
  const auto doc = nlohmann::json::parse(sarif);
  BOOST_TEST(doc["runs"][0]["tool"]["driver"]["rules"].size() == 3u);
  BOOST_TEST(doc["runs"][0]["results"].size() == 4u);
  BOOST_TEST(doc["runs"][0]["results"][1]["suppressions"][0]["justification"] == "users change passwords");
  BOOST_TEST(doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] ==
             "root/%3Ckey%3E%26%0A%3A%3Aerror%3A%3Ax");
  const std::string junit = audit_junit(r, check);
  BOOST_TEST(junit.find("<testcase name=\"private-key\" classname=\"reproimg.audit.checks\" time=\"0\">") !=
             std::string::npos);
  BOOST_TEST(junit.find("<testcase name=\"setuid\" classname=\"reproimg.audit.checks\" time=\"0\"/>") !=
             std::string::npos);
  BOOST_TEST(junit.find("timestamp=\"2023-11-14T22:13:20\"") != std::string::npos);
  const std::string github = audit_github(r, check);
  BOOST_TEST(github.find("::error title=reproimg audit%3A private-key (1 finding)::") != std::string::npos);
  BOOST_TEST(github.find("::warning title=reproimg audit%3A setuid (1 finding)::") != std::string::npos);
  BOOST_TEST(github.find("\n::error::x") == std::string::npos); // the path cannot start a command
  const auto json = nlohmann::json::parse(audit_json(r, check));
  BOOST_TEST(json["schema"] == "reproimg-audit/1");
  BOOST_TEST(json["counts"]["medium"] == 1);
  BOOST_TEST(audit_text(r, TextStyle{}) == audit_text(r, TextStyle{}));
  BOOST_TEST(audit_markdown(r, check).find("| `setuid` | medium | 1 | 1 |") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
