// The renderings of a diff result, one per format (report/NAME.cpp each), and what they take
// beside the result: the check it answers and the text style. Every one is deterministic: same
// input, same bytes, whatever the locale, the time zone or the clock.
#pragma once

#include "diff/difference.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace reproimg::report {

using diff::DiffResult;

// The command whose answer the result is: `diff` compares two inputs, `verify` an image against
// its lock (one side of the same DiffResult); `audit` renders findings (report/findings.hpp);
// `rebuild` the artifacts of two builds, each record with the variations it is attributed to.
enum class Command { diff, verify, audit, rebuild };

// What the report says about the check beside the result itself.
struct Check {
  Command command = Command::diff;
  std::string headline;       // optional one line under the verdict ("canonical match; bit-level differs: compression")
  std::int64_t timestamp = 0; // seconds since the epoch, JUnit's timestamp: the cli passes SOURCE_DATE_EPOCH, else 0
  std::string tool_version;   // SARIF's driver version ("" leaves it out)
};

struct TextStyle {
  bool color = false;                  // ANSI colours (a terminal)
  std::size_t examples_per_cause = 10; // 0: all
};

// The versioned JSON document (docs/diff-report.schema.json).
std::string report_json(const DiffResult& r, const Check& check = {});
// Summary first (verdict, counts per cause with hints), then examples per cause.
std::string report_text(const DiffResult& r, const TextStyle& style, const Check& check = {});
// For a CI job summary: a table and a collapsible section per cause.
std::string report_markdown(const DiffResult& r, const Check& check = {});
// One self-contained HTML page, a collapsible section per cause.
std::string report_html(const DiffResult& r, const Check& check = {});
// JUnit XML (Ant's schema): a test case per layer and per cause (docs/ci-reports.md).
std::string report_junit(const DiffResult& r, const Check& check = {});
// SARIF 2.1.0: a rule per cause present, a result per difference (docs/ci-reports.md).
std::string report_sarif(const DiffResult& r, const Check& check = {});
// GitHub Actions workflow commands: a ::notice verdict line, an ::error or ::warning per cause.
std::string report_github(const DiffResult& r, const Check& check = {});

// GitHub workflow command escaping: a command's message (% CR LF) and a property's value (also : ,).
std::string github_escape_data(const std::string& s);
std::string github_escape_property(const std::string& s);
// One workflow command line: `::COMMAND title=TITLE::MESSAGE`, both escaped.
std::string github_command(const char* command, const std::string& title, const std::string& message);
// A path inside the image as a relative URI reference: every byte but A-Z a-z 0-9 - . _ ~ / as %XX.
std::string percent_encode_path(const std::string& path);

} // namespace reproimg::report
