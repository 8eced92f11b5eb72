// reproimg verify: gate a release on a rebuild matching its lock, at a level; explain a mismatch.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/report_output.hpp"
#include "report/report.hpp"
#include "digest/sha256.hpp"
#include "util/error.hpp"
#include "verify/attestation.hpp"
#include "verify/lock.hpp"
#include "verify/verify.hpp"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace reproimg::cli {

namespace {

const char* const k_examples = R"(  # The release gate: the rebuild is the locked image, bit for bit (exit 0), or not (exit 1):
  reproimg verify oci:./rebuilt:1 --lock base.lock
  # The same image once normalised (compression, tar encoding, times the policy clamps aside):
  reproimg verify oci:./rebuilt:1 --lock base.lock --level canonical
  # Every locked file, as JSON for a machine, with a signed-off summary for the release:
  SOURCE_DATE_EPOCH=1700000000 reproimg verify oci-archive:rebuilt.tar --lock base.lock \
      --level files --format json --output verify.json --attest verify.intoto.json
  cosign attest --predicate <(jq .predicate verify.intoto.json) \
      --type https://slsa.dev/verification_summary/v1 registry.example.com/base@sha256:...
)";

const char* outcome_name(verify::Outcome o)
{
  switch (o) {
  case verify::Outcome::holds: return "match";
  case verify::Outcome::differs: return "differs";
  case verify::Outcome::unchecked: return "unchecked";
  }
  return "unchecked";
}

nlohmann::json verify_json(const verify::VerifyResult& v)
{
  nlohmann::json failing = nlohmann::json::array();
  for (const auto& d : v.failing) {
    failing.push_back({{"cause", diff::cause_name(d.cause)}, {"path", util::printable(d.path)}});
  }
  return {{"level", verify::level_name(v.level)},
          {"result", v.passed ? "PASSED" : "FAILED"},
          {"summary", v.summary},
          {"levels", {{"bit", outcome_name(v.bit)}, {"canonical", outcome_name(v.canonical)}, {"files", outcome_name(v.files)}}},
          {"failing", failing}};
}

std::string render(const verify::VerifyResult& v, report::ReportFormat format, const report::Check& check,
                   const report::TextStyle& style)
{
  // Text: the answer first, in one line: "verify: PASSED at bit: bit match".
  const WrappedReport wrapper{"reproimg-verify/1", "verify", [&] { return verify_json(v); },
                              [&] { return "verify: " + util::printable(check.headline) + "\n"; }};
  return render_wrapped_report(wrapper, format, v.diff, check, style);
}

void write_attestation(const std::string& path, const verify::VerifyResult& v, const std::string& lock_name,
                       const std::string& lock_bytes)
{
  verify::AttestationInput in;
  in.lock_name = lock_name;
  in.lock_sha256 = digest::sha256_digest(lock_bytes);
  in.time = normalize::source_date_epoch_from_env().value_or(static_cast<std::int64_t>(std::time(nullptr)));
  in.version = REPROIMG_VERSION;
  const std::string text = verify::attestation_json(v, in);
  util::AtomicFile file(path);
  util::write_all(file.fd(), text.data(), text.size(), file.path());
  file.commit();
}

} // namespace

int cmd_verify(int argc, char** argv)
{
  cxxopts::Options options("reproimg verify",
                           "Check IMAGE against a lock written by `reproimg lock`, at a level: bit (manifest and every\n"
                           "blob equal), canonical (every canonical diff_id equal under the lock's policy), files (every\n"
                           "locked file equal but for what that policy normalises). A mismatch is explained as diff\n"
                           "explains it, the lock as side A. Exit 0 match, 1 mismatch, 2 error.");
  options.positional_help("IMAGE --lock FILE");
  options.add_options()
    ("image", "the rebuild: any input `reproimg lock` takes, of the kind the lock records", cxxopts::value<std::string>(), "IMAGE")
    ("lock", "the lock file", cxxopts::value<std::string>(), "FILE")
    ("level", "bit, canonical or files", cxxopts::value<std::string>()->default_value("bit"), "LEVEL")
    ("format", report::report_format_list() + " (github: workflow commands; the markdown report is appended to "
     "$GITHUB_STEP_SUMMARY when it is set)", cxxopts::value<std::string>()->default_value("text"), "FORMAT")
    ("output", "write the report to FILE (atomically) instead of stdout", cxxopts::value<std::string>(), "FILE")
    ("attest", "also write an in-toto Statement v1 with a SLSA Verification Summary predicate (time: $SOURCE_DATE_EPOCH, else now)",
     cxxopts::value<std::string>(), "FILE")
    ("max-diff-lines", "lines of unified diff per text file", cxxopts::value<std::size_t>()->default_value("40"), "N")
    ("all", "text report: list every difference, not 10 per cause (as --verbose)");
  add_output_options(options);
  add_registry_options(options);
  options.parse_positional({"image"});
  const auto r = parse_arguments(options, argc, argv);
  if (r.count("help")) {
    return print_help(options, k_examples);
  }
  if (!r.count("image") || !r.count("lock")) {
    throw util::Error("verify: want IMAGE and --lock FILE (see reproimg verify --help)");
  }
  verify::VerifyOptions opts;
  const auto level = verify::parse_level(r["level"].as<std::string>());
  if (!level) {
    throw util::Error("verify: --level must be bit, canonical or files, not '" + util::printable(r["level"].as<std::string>()) + "'");
  }
  opts.level = *level;
  const auto format = report::parse_report_format(r["format"].as<std::string>());
  if (!format) {
    throw util::Error("verify: --format must be " + report::report_format_list() + ", not '" +
                      util::printable(r["format"].as<std::string>()) + "'");
  }
  opts.compare.max_diff_lines = r["max-diff-lines"].as<std::size_t>();
  opts.progress = progress_from(r);
  const Verbosity verbosity = verbosity_from(r);
  const bool color = color_from(r, 1);
  ReportTargets targets;
  if (r.count("output")) targets.file.emplace(r["output"].as<std::string>());
  if (*format == report::ReportFormat::github) targets.step_summary = open_step_summary();
  targets.quiet = verbosity == Verbosity::quiet;
  if (r.count("attest")) util::check_output_file(r["attest"].as<std::string>());

  const std::string lock_name = r["lock"].as<std::string>();
  const std::string lock_bytes = verify::read_lock_bytes(lock_name);
  const verify::Lock lock = verify::lock_from_json(lock_bytes, lock_name);
  const verify::VerifyResult result = verify::verify_against_lock(r["image"].as<std::string>(), lock, lock_name, opts);

  report::TextStyle style;
  style.color = r["color"].as<std::string>() == "always" || (color && !targets.file);
  style.examples_per_cause = r.count("all") || verbosity == Verbosity::verbose ? 0 : 10;
  const std::string headline = std::string(result.passed ? "PASSED" : "FAILED") + " at " +
                               verify::level_name(result.level) + ": " + result.summary;
  const report::Check check = check_of(*format, report::Command::verify, headline);
  const std::string text = render(result, *format, check, style);
  if (r.count("attest")) write_attestation(r["attest"].as<std::string>(), result, lock_name, lock_bytes);
  write_report(targets, text,
               targets.step_summary.fd.valid() ? report::render(report::ReportFormat::markdown, result.diff, check, style) : "");
  return result.passed ? 0 : 1;
}

} // namespace reproimg::cli
