// reproimg audit: what a (third-party) image carries that a careful team would not ship, and how
// far it is from reproducible; findings by check and severity, a policy, CI report formats.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/report_output.hpp"
#include "normalize/policy.hpp"
#include "report/findings.hpp"
#include "util/error.hpp"
#include "verify/audit.hpp"
#include "verify/audit_policy.hpp"

namespace reproimg::cli {

namespace {

const char* const k_examples = R"(  # Vet a base image before building on it (exit 1 when a finding at or above high remains):
  reproimg audit docker-archive:base.tar
  # A rootfs or a single layer, with the build's SOURCE_DATE_EPOCH as the reference time:
  SOURCE_DATE_EPOCH=1700000000 reproimg audit dir:./rootfs
  # With a policy (severities, allowances each with a reason), failing from medium up, for code scanning:
  reproimg audit oci:./base:1 --policy audit-policy.yaml --fail-on medium --format sarif --output audit.sarif
  # In GitHub Actions: annotations, and the markdown report in the job summary:
  reproimg audit oci-archive:base.tar --format github
)";

std::string check_list()
{
  std::string out;
  for (const auto& c : verify::audit_checks()) {
    out += std::string("  ") + c.id + " (" + report::severity_name(c.severity) + "): " + c.description + "\n";
  }
  return out;
}

verify::AuditOptions options_from(const cxxopts::ParseResult& r)
{
  verify::AuditOptions opts;
  if (r.count("source-date-epoch")) {
    opts.epoch = r["source-date-epoch"].as<std::int64_t>();
    if (*opts.epoch < 0) throw util::Error("--source-date-epoch must not be negative");
  } else {
    opts.epoch = normalize::source_date_epoch_from_env();
  }
  if (r.count("policy")) opts.policy = verify::read_audit_policy(r["policy"].as<std::string>());
  opts.fail_on = opts.policy.fail_on.value_or(report::Severity::high);
  if (r.count("fail-on")) {
    const auto s = report::parse_severity(r["fail-on"].as<std::string>());
    if (!s) {
      throw util::Error("audit: --fail-on must be " + report::severity_list() + ", not '" +
                        util::printable(r["fail-on"].as<std::string>()) + "'");
    }
    opts.fail_on = *s;
  }
  opts.progress = progress_from(r);
  return opts;
}

} // namespace

int cmd_audit(int argc, char** argv)
{
  cxxopts::Options options("reproimg audit",
                           "Audit IMAGE (an image reference, a layer tar or dir:ROOTFS): what it carries that a careful\n"
                           "team would not ship, and how far it is from reproducible. Each finding has a check, a\n"
                           "severity, the layer and paths, a reason and a fix. Exit 0 when no finding at or above\n"
                           "--fail-on remains (after the policy's allowances), 1 when one does, 2 on errors.\n\nChecks "
                           "(default severity):\n" + check_list());
  options.positional_help("IMAGE");
  options.add_options()
    ("image", "what to audit", cxxopts::value<std::string>(), "IMAGE")
    ("policy", "a policy file (YAML; docs/audit.md): severities per check, allowances by check and path glob with a reason",
     cxxopts::value<std::string>(), "FILE")
    ("fail-on", "exit 1 when a finding at or above this severity remains: " + report::severity_list() +
     " (default: the policy's, else high)", cxxopts::value<std::string>(), "SEVERITY")
    ("format", "text, json, markdown, junit, sarif or github (github: workflow commands; the markdown report is appended "
     "to $GITHUB_STEP_SUMMARY when it is set)", cxxopts::value<std::string>()->default_value("text"), "FORMAT")
    ("output", "write the report to FILE (atomically) instead of stdout", cxxopts::value<std::string>(), "FILE")
    ("source-date-epoch", "the build's time: an embedded time other than it counts, shadow change days are compared to its day, "
     "the canonical diff_id clamps to it (default: $SOURCE_DATE_EPOCH, else the config's created, else 0)",
     cxxopts::value<std::int64_t>(), "SECONDS")
    ("platform", "an index: audit this platform", cxxopts::value<std::string>(), "OS/ARCH[/VARIANT]")
    ("all", "text report: list every path of a finding, not 10");
  add_output_options(options);
  add_registry_options(options);
  options.parse_positional({"image"});
  const auto r = parse_arguments(options, argc, argv);
  if (r.count("help")) return print_help(options, k_examples);
  if (!r.count("image")) throw util::Error("audit: want IMAGE (see reproimg audit --help)");
  const auto format = report::parse_report_format(r["format"].as<std::string>());
  if (!format || *format == report::ReportFormat::html) {
    throw util::Error("audit: --format must be text, json, markdown, junit, sarif or github, not '" +
                      util::printable(r["format"].as<std::string>()) + "'");
  }
  const verify::AuditOptions opts = options_from(r);
  std::optional<image::Platform> platform;
  if (r.count("platform")) platform = image::parse_platform(r["platform"].as<std::string>());
  const Verbosity verbosity = verbosity_from(r);
  ReportTargets targets;
  if (r.count("output")) targets.file.emplace(r["output"].as<std::string>());
  if (*format == report::ReportFormat::github) targets.step_summary = open_step_summary();
  targets.quiet = verbosity == Verbosity::quiet;

  const report::AuditResult result = verify::run_audit(r["image"].as<std::string>(), opts, platform);
  report::TextStyle style;
  style.color = r["color"].as<std::string>() == "always" || (color_from(r, 1) && !targets.file);
  style.examples_per_cause = r.count("all") || verbosity == Verbosity::verbose ? 0 : 10;
  const report::Check check = check_of(*format, report::Command::audit, audit_verdict(result));
  write_report(targets, report::render_audit(*format, result, check, style),
               targets.step_summary.fd.valid() ? report::audit_markdown(result, check) : "");
  return util::exit_code(result.failed ? util::ExitCode::differs : util::ExitCode::ok);
}

} // namespace reproimg::cli
