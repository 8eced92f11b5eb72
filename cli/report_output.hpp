// What diff, verify, rebuild and audit share when they write a report: the report's description of
// the check, where it goes (stdout, --output, and $GITHUB_STEP_SUMMARY with --format github).
#pragma once

#include "report/report.hpp"

#include "util/file.hpp"
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace reproimg::cli {

// --format github: $GITHUB_STEP_SUMMARY, opened for appending (never truncated) before the
// comparison, so that a file that cannot be written is said at once. Not set: nothing.
struct StepSummary {
  std::string path;
  util::Fd fd;
};
StepSummary open_step_summary();

// What the report says of the check beside the result: the command, a headline, the tool version,
// and for JUnit the build's time (SOURCE_DATE_EPOCH, never the clock; the epoch when unset).
report::Check check_of(report::ReportFormat format, report::Command command, std::string headline = "");

// Writes the report: to --output (atomically) when given, else to stdout unless quiet; with a
// step summary, the markdown rendering is appended there too.
struct ReportTargets {
  std::optional<util::AtomicFile> file; // --output
  StepSummary step_summary;
  bool quiet = false;
};
void write_report(ReportTargets& targets, const std::string& text, const std::string& markdown);

// The report of a command that wraps diff's (verify, rebuild), in any format. JSON: {"schema":
// SCHEMA, KEY: body(), "report": diff's report} (diff's schema allows no other keys), two-space
// indented, a newline at the end. Text: preamble() (the answer, in lines a CI log shows), then
// diff's text without its headline. Any other format: diff's report with the check's headline.
struct WrappedReport {
  const char* schema;
  const char* key;
  std::function<nlohmann::json()> body;
  std::function<std::string()> preamble;
};
std::string render_wrapped_report(const WrappedReport& wrapper, report::ReportFormat format,
                                  const diff::DiffResult& diff, const report::Check& check,
                                  const report::TextStyle& style);

} // namespace reproimg::cli
