// Where diff's and verify's reports go (see report_output.hpp).
#include "cli/report_output.hpp"

#include "cli/common.hpp"
#include "normalize/policy.hpp"
#include "util/error.hpp"

#include <cstdlib>
#include <fcntl.h>

namespace reproimg::cli {

StepSummary open_step_summary()
{
  const char* path = std::getenv("GITHUB_STEP_SUMMARY");
  if (!path || !*path) return {};
  const int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    util::throw_errno("cannot append the markdown report to $GITHUB_STEP_SUMMARY", path);
  }
  return {path, util::Fd(fd)};
}

report::Check check_of(report::ReportFormat format, report::Command command, std::string headline)
{
  report::Check check;
  check.command = command;
  check.headline = std::move(headline);
  check.tool_version = REPROIMG_VERSION;
  if (format == report::ReportFormat::junit) {
    check.timestamp = normalize::source_date_epoch_from_env().value_or(0);
  }
  return check;
}

void write_report(ReportTargets& targets, const std::string& text, const std::string& markdown)
{
  if (targets.step_summary.fd.valid()) {
    util::write_all(targets.step_summary.fd.get(), markdown.data(), markdown.size(), targets.step_summary.path);
  }
  if (targets.file) {
    util::write_all(targets.file->fd(), text.data(), text.size(), targets.file->path());
    targets.file->commit();
  } else if (!targets.quiet) {
    OutputTarget out("-", false);
    out.sink().write(text);
    out.commit();
  }
}

std::string render_wrapped_report(const WrappedReport& wrapper, report::ReportFormat format,
                                  const diff::DiffResult& diff, const report::Check& check,
                                  const report::TextStyle& style)
{
  if (format == report::ReportFormat::json) {
    const nlohmann::json doc = {{"schema", wrapper.schema},
                                {wrapper.key, wrapper.body()},
                                {"report", nlohmann::json::parse(report::report_json(diff, check))}};
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  if (format == report::ReportFormat::text) {
    report::Check plain = check;
    plain.headline.clear();
    return wrapper.preamble() + report::render(format, diff, plain, style);
  }
  return report::render(format, diff, check, style);
}

} // namespace reproimg::cli
