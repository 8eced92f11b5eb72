// reproimg diff: compare two images, layers or trees and explain every difference.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "diff/diff.hpp"
#include "normalize/policy.hpp"
#include "cli/report_output.hpp"
#include "report/report.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <sstream>

namespace reproimg::cli {

namespace {

const char* const k_examples = R"(  # Two rebuilds of a rootfs tarball: what differs, and why (exit 1 if anything does):
  reproimg diff build1/rootfs.tar.gz build2/rootfs.tar.gz
  # Two images (any mix of OCI layout, oci-archive, docker-archive, dir:), as JSON for a machine:
  reproimg diff oci:./out1:latest docker-archive:out2.tar --format json --output diff.json
  # In CI: pass when the only differences are ones `reproimg normalize` removes:
  reproimg diff --accept-normalizable a.tar b.tar
  # Only real content differences, logs excluded, a Markdown summary for the job page:
  reproimg diff --semantic --exclude 'var/log/*' a.tar b.tar --format markdown >> "$GITHUB_STEP_SUMMARY"
  # In a GitHub Actions step: annotations per cause, the markdown report appended to the job summary:
  reproimg diff oci:./out1 oci:./out2 --format github
  # For a CI dashboard (JUnit XML) or a code-scanning view (SARIF 2.1.0):
  reproimg diff oci:./out1 oci:./out2 --format junit --output reproimg-junit.xml
  reproimg diff oci:./out1 oci:./out2 --format sarif --output reproimg.sarif
  # An image against the rootfs directory it was built from (its flattened filesystem):
  reproimg diff oci-archive:image.tar dir:./rootfs
)";

std::string cause_list()
{
  std::string s;
  for (const auto c : diff::all_causes()) {
    s += (s.empty() ? "" : ", ") + std::string(diff::cause_name(c));
  }
  return s;
}

} // namespace

int cmd_diff(int argc, char** argv)
{
  cxxopts::Options options("reproimg diff",
                           "Compare A and B file by file and say why they differ, cause by cause.\n"
                           "A, B: oci:DIR[:tag], oci-archive:FILE[:tag], docker-archive:FILE[:name:tag], docker://REF, a layer tar\n"
                           "(any compression), dir:PATH (skopeo's directory transport, or a rootfs), or - (stdin, one\n"
                           "side). Exit 0 identical, 1 different (or equivalent without --accept-normalizable), 2 error.\n"
                           "One image in two transports (OCI layout, docker-archive, dir:, ...) is equivalent: `format`.\n"
                           "With -q nothing is printed but errors: the exit code is the answer.");
  options.positional_help("A B");
  options.add_options()
    ("a", "first input", cxxopts::value<std::string>(), "A")
    ("b", "second input", cxxopts::value<std::string>(), "B")
    ("format", report::report_format_list() + " (github: workflow commands; the markdown report is appended to "
     "$GITHUB_STEP_SUMMARY when it is set)", cxxopts::value<std::string>()->default_value("text"), "FORMAT")
    ("output", "write the report to FILE (atomically) instead of stdout", cxxopts::value<std::string>(), "FILE")
    ("ignore", "drop these causes: " + cause_list(), cxxopts::value<std::vector<std::string>>(), "CAUSE[,CAUSE]")
    ("exclude", "do not compare paths matching GLOB (and what is below them); repeatable",
     cxxopts::value<std::vector<std::string>>(), "GLOB")
    ("semantic", "ignore every difference `reproimg normalize` removes")
    ("accept-normalizable", "exit 0 when the verdict is equivalent")
    ("platform", "for image indexes: the platform to compare", cxxopts::value<std::string>(), "OS/ARCH[/VARIANT]")
    ("max-diff-lines", "lines of unified diff per text file",
     cxxopts::value<std::size_t>()->default_value("40"), "N")
    ("all", "text report: list every difference, not 10 per cause (as --verbose)");
  add_output_options(options);
  add_registry_options(options);
  options.parse_positional({"a", "b"});
  const auto r = parse_arguments(options, argc, argv);
  if (r.count("help")) {
    return print_help(options, k_examples);
  }
  if (!r.count("a") || !r.count("b")) {
    throw util::Error("diff: want two inputs A and B (see reproimg diff --help)");
  }
  const auto format = report::parse_report_format(r["format"].as<std::string>());
  if (!format) {
    throw util::Error("diff: --format must be " + report::report_format_list() + ", not '" +
                      util::printable(r["format"].as<std::string>()) + "'");
  }
  diff::DiffOptions opts;
  if (r.count("ignore")) {
    for (const auto& name : r["ignore"].as<std::vector<std::string>>()) {
      const auto c = diff::parse_cause(name);
      if (!c) {
        throw util::Error("diff: unknown cause '" + util::printable(name) + "' for --ignore; causes: " + cause_list());
      }
      opts.ignore.insert(*c);
    }
  }
  if (r.count("exclude")) {
    opts.compare.excludes = r["exclude"].as<std::vector<std::string>>();
  }
  opts.semantic = r.count("semantic") > 0;
  if (r.count("platform")) {
    opts.platform = image::parse_platform(r["platform"].as<std::string>());
  }
  opts.compare.max_diff_lines = r["max-diff-lines"].as<std::size_t>();
  opts.progress = progress_from(r);
  const Verbosity verbosity = verbosity_from(r);
  const bool color = color_from(r, 1);
  // Created before the comparison, so that a path that cannot be written is said at once.
  ReportTargets targets;
  if (r.count("output")) {
    targets.file.emplace(r["output"].as<std::string>());
  }
  if (*format == report::ReportFormat::github) {
    targets.step_summary = open_step_summary();
  }
  // -q: the exit code says it all (as diff -q, cmp -s and git diff --quiet).
  targets.quiet = verbosity == Verbosity::quiet;
  const report::Check check = check_of(*format, report::Command::diff);

  const diff::DiffResult result = diff::run_diff(r["a"].as<std::string>(), r["b"].as<std::string>(), opts);
  // The readers' warnings are notes of the report (JSON shows them all); said on stderr too, as
  // every command says them.
  normalize::Report warnings;
  for (const auto& note : result.notes) {
    if (note.rfind("warning: ", 0) == 0) {
      warnings.warn(note.substr(9));
    }
  }
  print_warnings(warnings, verbosity);

  report::TextStyle style;
  // auto colours a report to the terminal only, not one written to a file.
  style.color = r["color"].as<std::string>() == "always" || (color && !targets.file);
  style.examples_per_cause = r.count("all") || verbosity == Verbosity::verbose ? 0 : 10;
  const std::string text = report::render(*format, result, check, style);
  write_report(targets, text,
               targets.step_summary.fd.valid() ? report::render(report::ReportFormat::markdown, result, check, style) : "");
  switch (result.verdict) {
  case diff::Verdict::identical: return util::exit_code(util::ExitCode::ok);
  case diff::Verdict::equivalent:
    return util::exit_code(r.count("accept-normalizable") ? util::ExitCode::ok : util::ExitCode::differs);
  case diff::Verdict::different: return util::exit_code(util::ExitCode::differs);
  }
  return util::exit_code(util::ExitCode::differs);
}

} // namespace reproimg::cli
