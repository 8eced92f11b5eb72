// report: every format renders a diff result deterministically, escaping what it shows.
#include "diff/diff.hpp"
#include "report/report.hpp"
#include "tests/support.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace reproimg;

namespace {

// A pax tar of regular files (path, content), written with libarchive.
void write_tar(const std::string& file, const std::vector<std::pair<std::string, std::string>>& files)
{
  archive* a = archive_write_new();
  archive_write_set_format_pax(a);
  BOOST_REQUIRE(archive_write_open_filename(a, file.c_str()) == ARCHIVE_OK);
  for (const auto& [path, content] : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 1000, 0);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    BOOST_REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    archive_write_data(a, content.data(), content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

bool contains(const std::string& s, const std::string& part)
{
  return s.find(part) != std::string::npos;
}

std::size_t occurrences(const std::string& s, const std::string& part)
{
  std::size_t n = 0;
  for (auto pos = s.find(part); pos != std::string::npos; pos = s.find(part, pos + 1)) ++n;
  return n;
}

diff::Difference record(diff::Cause cause, const std::string& path, std::optional<int> layer, bool normalizable)
{
  diff::Difference d;
  d.cause = cause;
  d.path = path;
  d.layer = layer;
  d.normalizable = normalizable;
  d.add("size", 1, 2);
  return d;
}

// A finished result as diff makes it: records sorted, summarised per cause with a hint.
diff::DiffResult result_of(std::vector<diff::Difference> ds, diff::Scope scope = diff::Scope::images,
                           std::size_t layer_pairs = 2)
{
  diff::DiffResult r;
  r.a = "oci:a";
  r.b = "oci:b";
  r.scope = scope;
  r.layer_pairs = layer_pairs;
  diff::sort_differences(ds);
  r.differences = std::move(ds);
  for (auto& d : r.differences) {
    auto& s = r.summary[d.cause];
    ++s.count;
    s.normalizable = s.normalizable && d.normalizable;
    s.hint = std::string("hint of ") + diff::cause_name(d.cause) + ": `reproimg normalize` for " + d.path;
    d.hint = s.hint;
  }
  const bool any = !r.differences.empty();
  const bool all_normalizable =
      std::all_of(r.differences.begin(), r.differences.end(), [](const diff::Difference& d) { return d.normalizable; });
  r.verdict = !any ? diff::Verdict::identical : all_normalizable ? diff::Verdict::equivalent : diff::Verdict::different;
  return r;
}

// Paths that need escaping in every format: space, %, :, non-ASCII, markup, a newline.
const std::string k_hostile = "etc/a b%c:d,\xc3\xa9<&>\n::error::x";

diff::DiffResult hostile_result()
{
  return result_of({record(diff::Cause::content, k_hostile, 1, false), record(diff::Cause::mtime, "usr/bin/t", 0, true),
                    record(diff::Cause::config_created, "config:/created", std::nullopt, false),
                    record(diff::Cause::order, "", 1, true)});
}

} // namespace

BOOST_AUTO_TEST_SUITE(report_formats)

BOOST_AUTO_TEST_CASE(every_format_name_parses_and_the_list_names_them_all)
{
  BOOST_TEST(report::report_format_list() == "text, json, markdown, html, junit, sarif or github");
  for (const auto& name : report::report_format_names()) {
    BOOST_TEST(report::parse_report_format(name).has_value(), name);
  }
  BOOST_TEST(report::report_format_names().size() == 7u);
  BOOST_TEST((report::parse_report_format("md") == report::ReportFormat::markdown));
  BOOST_TEST(!report::parse_report_format("xml").has_value());
  BOOST_TEST(!report::parse_report_format("JUnit").has_value());
}

BOOST_AUTO_TEST_CASE(render_is_each_format_and_a_headline_or_verify_changes_only_what_it_names)
{
  const auto r = hostile_result();
  const report::TextStyle style;
  BOOST_TEST(report::render(report::ReportFormat::text, r, {}, style) == report::report_text(r, style));
  BOOST_TEST(report::render(report::ReportFormat::json, r, {}, style) == report::report_json(r));
  BOOST_TEST(!contains(report::report_json(r), "headline"));
  BOOST_TEST(!contains(report::report_json(r), "\"command\""));
  report::Check verify;
  verify.command = report::Command::verify;
  verify.headline = "canonical match; bit-level differs: compression";
  const std::string text = report::report_text(r, style, verify);
  BOOST_TEST(text.substr(text.find('\n') + 1).rfind(verify.headline + "\n", 0) == 0, text);
  BOOST_TEST(contains(report::report_markdown(r, verify), "## \xe2\x9d\x8c reproimg verify: different"));
  BOOST_TEST(contains(report::report_html(r, verify), "<title>reproimg verify: different</title>"));
  const auto json = nlohmann::json::parse(report::report_json(r, verify));
  BOOST_TEST(json.at("command") == "verify");
  BOOST_TEST(json.at("headline") == verify.headline);
  BOOST_TEST(contains(report::report_junit(r, verify), "package=\"reproimg.verify\""));
  BOOST_TEST(contains(report::report_github(r, verify), "::notice title=reproimg verify%3A different::"));
}

BOOST_AUTO_TEST_CASE(junit_has_a_case_per_layer_and_per_cause_and_identical_passes_them_all)
{
  report::Check check;
  check.timestamp = 1700000000;
  const std::string same = report::report_junit(result_of({}), check);
  BOOST_TEST(contains(same, "<testsuite name=\"layers\" package=\"reproimg.diff\" id=\"0\" "
                            "timestamp=\"2023-11-14T22:13:20\" hostname=\"localhost\" tests=\"3\" failures=\"0\""),
             same);
  BOOST_TEST(contains(same, "tests=\"" + std::to_string(diff::all_causes().size()) + "\" failures=\"0\""), same);
  BOOST_TEST(!contains(same, "<failure"));
  for (const char* name : {"manifest and config", "layer 0", "layer 1"}) {
    BOOST_TEST(contains(same, std::string("<testcase name=\"") + name + "\" classname=\"reproimg.diff.layers\""), name);
  }

  const std::string x = report::report_junit(hostile_result(), {});
  BOOST_TEST(contains(x, "timestamp=\"1970-01-01T00:00:00\""));
  BOOST_TEST(occurrences(x, "<failure") == 3u + 4u, x); // manifest and config, layers 0 and 1; four causes
  BOOST_TEST(contains(x, "<testcase name=\"layer 1\" classname=\"reproimg.diff.layers\" time=\"0\">\n      <failure "
                         "message=\"2 differences: order 1, content 1\" type=\"different\">"),
             x);
  BOOST_TEST(
      contains(x, "<testcase name=\"mtime\" classname=\"reproimg.diff.causes\" time=\"0\">\n      <failure "
                  "message=\"1 difference: hint of mtime: `reproimg normalize` for usr/bin/t\" type=\"normalizable\">"),
      x);
  BOOST_TEST(contains(x, "<testcase name=\"xattr\" classname=\"reproimg.diff.causes\" time=\"0\"/>"));
  // Escaped: markup, the newline as \x0a; nothing raw.
  BOOST_TEST(contains(x, "etc/a b%c:d,\xc3\xa9&lt;&amp;&gt;\\x0a::error::x"), x);
  BOOST_TEST(!contains(x, "<&>"));
  BOOST_TEST(!contains(x, "\n::error"));
}

BOOST_AUTO_TEST_CASE(junit_failures_list_paths_up_to_a_cap_and_count_the_rest)
{
  std::vector<diff::Difference> ds;
  for (int i = 0; i < 75; ++i) ds.push_back(record(diff::Cause::content, "f" + std::to_string(100 + i), 0, false));
  const std::string x = report::report_junit(result_of(std::move(ds), diff::Scope::layers, 1), {});
  BOOST_TEST(contains(x, "content  layer 0: f149  size 1 -&gt; 2\n... and 25 more\n"), x);
  BOOST_TEST(!contains(x, "f150"));
  // XML 1.0 cannot hold U+FFFF, even as a reference: written out as text.
  const std::string y = report::report_junit(result_of({record(diff::Cause::content, "a\xef\xbf\xbf", 0, false)}), {});
  BOOST_TEST(contains(y, "a\\uFFFF"), y);
  BOOST_TEST(!contains(y, "\xef\xbf\xbf"));
}

BOOST_AUTO_TEST_CASE(sarif_has_a_rule_per_cause_and_a_located_result_per_difference)
{
  report::Check check;
  check.tool_version = "9.9.9";
  const auto doc = nlohmann::json::parse(report::report_sarif(hostile_result(), check));
  BOOST_TEST(doc.at("version") == "2.1.0");
  const auto& run = doc.at("runs").at(0);
  const auto& driver = run.at("tool").at("driver");
  BOOST_TEST(driver.at("name") == "reproimg");
  BOOST_TEST(driver.at("version") == "9.9.9");
  std::vector<std::string> rules;
  for (const auto& rule : driver.at("rules")) rules.push_back(rule.at("id"));
  BOOST_TEST((rules == std::vector<std::string>{"config-created", "order", "content", "mtime"}));
  BOOST_TEST(driver.at("rules").at(2).at("shortDescription").at("text") ==
             diff::cause_description(diff::Cause::content));
  BOOST_TEST(run.at("originalUriBaseIds").contains("IMAGE_ROOT"));
  const auto& results = run.at("results");
  BOOST_REQUIRE(results.size() == 4u);
  // Report order: the config record, then layer 0, then layer 1 by path.
  BOOST_TEST(results.at(0).at("ruleId") == "config-created");
  BOOST_TEST(results.at(0).at("level") == "error");
  BOOST_TEST(!results.at(0).at("locations").at(0).contains("physicalLocation"));
  BOOST_TEST(results.at(0).at("locations").at(0).at("logicalLocations").at(0).at("fullyQualifiedName") ==
             "config:/created");
  BOOST_TEST(results.at(1).at("level") == "warning");
  BOOST_TEST(results.at(1).at("ruleIndex") == 3);
  const auto& content = results.at(3);
  BOOST_TEST(content.at("ruleId") == "content");
  const auto& where = content.at("locations").at(0);
  BOOST_TEST(where.at("physicalLocation").at("artifactLocation").at("uri") ==
             "etc/a%20b%25c%3Ad%2C%C3%A9%3C%26%3E%0A%3A%3Aerror%3A%3Ax");
  BOOST_TEST(where.at("physicalLocation").at("artifactLocation").at("uriBaseId") == "IMAGE_ROOT");
  BOOST_TEST(where.at("logicalLocations").at(0).at("name") == "layer 1");
  BOOST_TEST(contains(content.at("message").at("text").get<std::string>(), "content: layer 1: etc/a b%c:d,"));
  const auto& order = results.at(2);
  BOOST_TEST(order.at("ruleId") == "order");
  BOOST_TEST(!order.at("locations").at(0).contains("physicalLocation"));
  // Identical: no rules, no results, still a run.
  const auto same = nlohmann::json::parse(report::report_sarif(result_of({}), {}));
  BOOST_TEST(same.at("runs").at(0).at("results").empty());
  BOOST_TEST(!same.at("runs").at(0).at("tool").at("driver").contains("version"));
}

BOOST_AUTO_TEST_CASE(percent_encoding_keeps_only_unreserved_bytes_and_slashes)
{
  BOOST_TEST(report::percent_encode_path("usr/bin/t\xc3\xa9st") == "usr/bin/t%C3%A9st");
  BOOST_TEST(report::percent_encode_path("a-b_c.d~e/f") == "a-b_c.d~e/f");
  BOOST_TEST(report::percent_encode_path("/abs/x y") == "abs/x%20y");
  BOOST_TEST(report::percent_encode_path("c:x") == "c%3Ax");
  BOOST_TEST(report::percent_encode_path(std::string("\xff\0z", 3)) == "%FF%00z");
  BOOST_TEST(report::percent_encode_path("#?[]@!$'()*+;=") == "%23%3F%5B%5D%40%21%24%27%28%29%2A%2B%3B%3D");
}

BOOST_AUTO_TEST_CASE(github_commands_are_escaped_so_no_path_starts_another)
{
  BOOST_TEST(report::github_escape_data("100% a\r\nb:c,d") == "100%25 a%0D%0Ab:c,d");
  BOOST_TEST(report::github_escape_property("100% a\r\nb:c,d") == "100%25 a%0D%0Ab%3Ac%2Cd");
  // A hint holding a raw path (with a newline and "::error::") must stay on its own line.
  auto r = hostile_result();
  r.summary.at(diff::Cause::content).hint = "1 file differs (" + k_hostile + ")\r\n::error::injected";
  const std::string out = report::report_github(r, {});
  std::istringstream lines(out);
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line);
  BOOST_REQUIRE(got.size() == 5u);
  BOOST_TEST(got[0].rfind("::notice title=reproimg diff%3A different::different: 2 differences", 0) == 0, got[0]);
  BOOST_TEST(got[1].rfind("::error title=reproimg diff%3A config-created (1 difference)::", 0) == 0, got[1]);
  BOOST_TEST(got[2].rfind("::warning title=reproimg diff%3A order (1 difference)::", 0) == 0, got[2]);
  BOOST_TEST(got[3] == "::error title=reproimg diff%3A content (1 difference)::1 difference: 1 file differs (etc/a "
                       "b%25c:d,\xc3\xa9<&>\\x0a::error::x)\\x0d\\x0a::error::injected");
  BOOST_TEST(got[4].rfind("::warning title=reproimg diff%3A mtime (1 difference)::", 0) == 0, got[4]);
  BOOST_TEST(occurrences(out, "\r") == 0u);
  // Identical: the verdict alone.
  BOOST_TEST(report::report_github(result_of({}), {}) == "::notice title=reproimg diff%3A identical::identical\n");
}

BOOST_AUTO_TEST_CASE(every_format_is_deterministic)
{
  const auto r = hostile_result();
  for (const auto& name : report::report_format_names()) {
    const auto f = *report::parse_report_format(name);
    BOOST_TEST(report::render(f, r, {}, {}) == report::render(f, r, {}, {}), name);
  }
}

BOOST_AUTO_TEST_CASE(reports_escape_what_they_show)
{
  test::TempDir dir;
  write_tar(dir.file("a.tar"), {{"<b>&.txt", "1\n"}});
  write_tar(dir.file("b.tar"), {{"<b>&.txt", "2\n"}});
  const auto r = diff::run_diff(dir.file("a.tar"), dir.file("b.tar"), {});
  const std::string html = report::report_html(r);
  BOOST_TEST(html.find("<b>&") == std::string::npos);
  BOOST_TEST(html.find("&lt;b&gt;&amp;.txt") != std::string::npos);
  BOOST_TEST(report::report_markdown(r).find("| `content` | 1 | no |") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
