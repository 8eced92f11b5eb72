// reproimg rebuild: run a build twice (more with --bisect) under varied conditions, compare the
// artifacts with diff's comparer, and name the variation behind each difference.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/report_output.hpp"
#include "report/report.hpp"
#include "util/error.hpp"
#include "verify/rebuild.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

namespace reproimg::cli {

namespace {

const char* const k_examples =
    R"(  # Is the build reproducible? Two runs, every variation this machine can apply (exit 0: yes):
  reproimg rebuild --artifact out/image.tar -- make image
  # Which variation leaked in: one run per variation, and one with none (inherent randomness):
  reproimg rebuild --bisect --jobs 2 --artifact out/rootfs -- ./build.sh
  # Only some variations, a JSON report (each difference with its `variations`):
  reproimg rebuild --vary time,timezone,locale --bisect --artifact oci:out/img -- ./build.sh \
      --format json --output rebuild.json
  # A build that pushes (the runs go one at a time; each compared by the digest it pushed):
  reproimg rebuild --artifact docker://localhost:5000/app:ci --tls-verify=false -- ./build-and-push.sh
  # Every variation but the build path:
  reproimg rebuild --vary -build-path --artifact dist/app.tar.gz -- make dist
)";

// --vary: "all", "none", a list of names, or a list of -NAME (all but those).
std::set<verify::Variation> parse_vary(const std::string& text)
{
  const auto& all = verify::all_variations();
  if (text == "all") return {all.begin(), all.end()};
  if (text == "none" || text.empty()) return {};
  std::vector<std::string> items;
  for (std::size_t pos = 0; pos <= text.size();) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    items.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  const bool removing = !items.empty() && items.front().rfind('-', 0) == 0;
  std::set<verify::Variation> out;
  if (removing) out.insert(all.begin(), all.end());
  for (const auto& item : items) {
    const bool minus = item.rfind('-', 0) == 0;
    const auto v = verify::parse_variation(minus ? item.substr(1) : item);
    if (!v || minus != removing) {
      throw util::Error("rebuild: --vary takes all, none, NAME[,NAME...] or -NAME[,-NAME...] with names " +
                        verify::variation_list() + "; not '" + util::printable(item) + "'");
    }
    if (minus)
      out.erase(*v);
    else
      out.insert(*v);
  }
  return out;
}

// "differs: 3 differences (time: 1, build-path: 1, none: 1); skipped: file-order (...)".
std::string headline_of(const verify::RebuildResult& r)
{
  std::string s = r.identical ? "identical: every run's artifact is the control's"
                              : "differs: " + std::to_string(r.diff.differences.size()) + " difference" +
                                    (r.diff.differences.size() == 1 ? "" : "s");
  const auto counts = verify::attribution_counts(r.diff);
  if (!r.identical && !counts.empty()) {
    s += " (";
    for (std::size_t i = 0; i < counts.size(); ++i) {
      s += (i ? ", " : "") + counts[i].first + ": " + std::to_string(counts[i].second);
    }
    s += r.bisect == verify::BisectMode::off ? "; varied together, --bisect separates them)" : ")";
  }
  std::string skipped;
  for (const auto& v : r.variations) {
    if (v.state != verify::VariationState::skipped) continue;
    skipped += (skipped.empty() ? "" : ", ") + std::string(verify::variation_name(v.variation)) + " (" + v.reason + ")";
  }
  return skipped.empty() ? s : s + "; skipped: " + skipped;
}

nlohmann::json rebuild_json(const verify::RebuildResult& r)
{
  nlohmann::json variations = nlohmann::json::array();
  const auto counts = verify::attribution_counts(r.diff);
  for (const auto& v : r.variations) {
    nlohmann::json j = {{"name", verify::variation_name(v.variation)},
                        {"state", verify::variation_state_name(v.state)}};
    if (v.state == verify::VariationState::skipped) j["reason"] = v.reason;
    if (v.state == verify::VariationState::varied) j["what"] = verify::variation_description(v.variation);
    std::size_t n = 0;
    for (const auto& [name, count] : counts) n = name == verify::variation_name(v.variation) ? count : n;
    j["differences"] = n;
    variations.push_back(j);
  }
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& run : r.runs) {
    nlohmann::json varied = nlohmann::json::array();
    for (const auto v : run.varied) varied.push_back(verify::variation_name(v));
    runs.push_back({{"name", run.name}, {"varied", varied}});
  }
  std::size_t inherent = 0;
  for (const auto& [name, count] : counts) inherent = name == verify::k_no_variation ? count : inherent;
  return {{"result", r.identical ? "identical" : "differs"},
          {"artifact", util::printable(r.artifact)},
          {"bisect", r.bisect == verify::BisectMode::on},
          {"source_date_epoch", r.epoch},
          {"source_date_epoch_from", verify::epoch_source_name(r.epoch_source)},
          {"runs", runs},
          {"variations", variations},
          {"unattributed_to_variations", inherent}};
}

std::string text_preamble(const verify::RebuildResult& r)
{
  std::string out = "rebuild: " + util::printable(headline_of(r)) + "\n";
  out += "SOURCE_DATE_EPOCH=" + std::to_string(r.epoch) + " (" + verify::epoch_source_name(r.epoch_source) + ")\n";
  out += "runs:";
  for (const auto& run : r.runs) out += " " + run.name;
  out += "\nvariations:\n";
  const auto counts = verify::attribution_counts(r.diff);
  for (const auto& v : r.variations) {
    const std::string name = verify::variation_name(v.variation);
    std::size_t n = 0;
    for (const auto& [c, count] : counts) n = c == name ? count : n;
    char line[96];
    std::snprintf(line, sizeof line, "  %-11s %-13s ", name.c_str(), verify::variation_state_name(v.state));
    out += line;
    if (v.state == verify::VariationState::skipped)
      out += v.reason;
    else if (v.state == verify::VariationState::varied)
      out += std::to_string(n) + " attributed; " + verify::variation_description(v.variation);
    out += "\n";
  }
  return out + "\n";
}

std::string render(const verify::RebuildResult& r, report::ReportFormat format, const report::Check& check,
                   const report::TextStyle& style)
{
  const WrappedReport wrapper{"reproimg-rebuild/1", "rebuild", [&] { return rebuild_json(r); },
                              [&] { return text_preamble(r); }};
  return render_wrapped_report(wrapper, format, r.diff, check, style);
}

// The build's own failure: what failed, how, and the tail of its output, on stderr; exit 2.
int report_failure(const verify::BuildFailure& f)
{
  std::fprintf(stderr, "%srebuild: the build failed in run '%s': %s; the last lines of its output:\n",
               message_prefix("error").c_str(), f.run.c_str(), f.status.c_str());
  std::size_t pos = 0;
  while (pos < f.tail.size()) {
    const std::size_t nl = std::min(f.tail.find('\n', pos), f.tail.size());
    std::fprintf(stderr, "  | %s\n", util::printable(f.tail.substr(pos, nl - pos)).c_str());
    pos = nl + 1;
  }
  return util::exit_code(util::ExitCode::bad_input);
}

} // namespace

int cmd_rebuild(int argc, char** argv)
{
  int split = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      split = i;
      break;
    }
  }
  cxxopts::Options options(
      "reproimg rebuild",
      "Run CMD twice, each time in a fresh copy of the working directory, under varied conditions\n"
      "(more runs with --bisect), and compare the artifact each run left at PATH as `reproimg diff`\n"
      "does; each difference is attributed to the variation behind it. SOURCE_DATE_EPOCH is held\n"
      "fixed. Exit 0 when every run's artifact is identical, 1 when not, 2 on errors (a failed build:\n"
      "its exit status and the tail of its output).");
  options.custom_help("[OPTION...] --artifact PATH -- CMD [ARGS...]");
  options.add_options()("artifact",
                        "what the build makes, relative to the working directory: an image (oci:, oci-archive:, "
                        "docker-archive:, dir: or detected), a layer tar, or a directory; or docker://REF:TAG, "
                        "the tag the build pushes to (the runs then go one at a time)",
                        cxxopts::value<std::string>(), "PATH")(
      "vary",
      "the variations: all, none, NAME[,NAME...] or -NAME[,...] (all but those); names: " + verify::variation_list(),
      cxxopts::value<std::string>()->default_value("all"),
      "LIST")("bisect", "also run with nothing varied and with each variation alone, to attribute every difference")(
      "jobs", "runs side by side", cxxopts::value<unsigned>()->default_value("1"),
      "N")("C,directory", "the working directory to copy", cxxopts::value<std::string>()->default_value("."), "DIR")(
      "copy", "how each run's copy is made: auto (overlay, else reflink, else copy), overlay, reflink or copy",
      cxxopts::value<std::string>()->default_value("auto"),
      "METHOD")("tmpdir", "where the copies go (default: $TMPDIR, else /tmp)", cxxopts::value<std::string>(), "DIR")(
      "source-date-epoch",
      "the SOURCE_DATE_EPOCH every run gets (default: $SOURCE_DATE_EPOCH, else the last commit's "
      "time in a git checkout, else 0)",
      cxxopts::value<std::int64_t>(),
      "N")("format", report::report_format_list(), cxxopts::value<std::string>()->default_value("text"), "FORMAT")(
      "output", "write the report to FILE (atomically) instead of stdout", cxxopts::value<std::string>(),
      "FILE")("ignore",
              "drop these causes from every comparison (as diff --ignore), e.g. mtime for a directory artifact that "
              "`reproimg import` will clamp",
              cxxopts::value<std::vector<std::string>>(), "CAUSE[,CAUSE]")(
      "max-diff-lines", "lines of unified diff per text file", cxxopts::value<std::size_t>()->default_value("40"),
      "N")("all", "text report: list every difference, not 10 per cause (as --verbose)");
  add_output_options(options);
  add_registry_options(options);
  const auto r = parse_arguments(options, split, argv);
  if (r.count("help")) return print_help(options, k_examples);
  if (!r.count("artifact")) throw util::Error("rebuild: want --artifact PATH (see reproimg rebuild --help)");
  if (split + 1 >= argc) throw util::Error("rebuild: want the build command after -- (see reproimg rebuild --help)");
  verify::RebuildOptions opts;
  for (int i = split + 1; i < argc; ++i) opts.command.emplace_back(argv[i]);
  opts.artifact = r["artifact"].as<std::string>();
  opts.requested = parse_vary(r["vary"].as<std::string>());
  opts.bisect = r.count("bisect") ? verify::BisectMode::on : verify::BisectMode::off;
  opts.jobs = r["jobs"].as<unsigned>();
  if (opts.jobs == 0 || opts.jobs > 64) throw util::Error("rebuild: --jobs must be 1 to 64");
  opts.source = r["directory"].as<std::string>();
  const auto copy = verify::parse_copy_request(r["copy"].as<std::string>());
  if (!copy) throw util::Error("rebuild: --copy must be auto, overlay, reflink or copy");
  opts.copy = *copy;
  const char* tmpdir = std::getenv("TMPDIR");
  opts.temp_parent = r.count("tmpdir") ? r["tmpdir"].as<std::string>() : tmpdir && *tmpdir ? tmpdir : "/tmp";
  if (r.count("source-date-epoch")) opts.epoch = r["source-date-epoch"].as<std::int64_t>();
  opts.compare.max_diff_lines = r["max-diff-lines"].as<std::size_t>();
  if (r.count("ignore")) {
    for (const auto& name : r["ignore"].as<std::vector<std::string>>()) {
      const auto c = diff::parse_cause(name);
      if (!c) throw util::Error("rebuild: unknown cause '" + util::printable(name) + "' for --ignore");
      opts.ignore.insert(*c);
    }
  }
  const auto format = report::parse_report_format(r["format"].as<std::string>());
  if (!format) throw util::Error("rebuild: --format must be " + report::report_format_list());
  const Verbosity verbosity = verbosity_from(r);
  const bool color = color_from(r, 1);
  ReportTargets targets;
  if (r.count("output")) targets.file.emplace(r["output"].as<std::string>());
  if (*format == report::ReportFormat::github) targets.step_summary = open_step_summary();
  targets.quiet = verbosity == Verbosity::quiet;

  const verify::RebuildResult result = verify::rebuild(opts);
  if (verbosity == Verbosity::verbose) {
    std::fprintf(stderr, "reproimg: rebuild: copies by %s; %s\n", verify::copy_method_name(result.copy_method),
                 result.order == verify::RunOrder::one_at_a_time
                     ? "runs one at a time: each pushes to the artifact's tag"
                 : result.private_mounts ? "runs side by side, each in a mount namespace of its own"
                                         : "runs that share a build path one at a time");
  }
  if (result.failure) return report_failure(*result.failure);
  report::TextStyle style;
  style.color = r["color"].as<std::string>() == "always" || (color && !targets.file);
  style.examples_per_cause = r.count("all") || verbosity == Verbosity::verbose ? 0 : 10;
  const report::Check check = check_of(*format, report::Command::rebuild, headline_of(result));
  write_report(
      targets, render(result, *format, check, style),
      targets.step_summary.fd.valid() ? report::render(report::ReportFormat::markdown, result.diff, check, style) : "");
  return util::exit_code(result.identical ? util::ExitCode::ok : util::ExitCode::differs);
}

} // namespace reproimg::cli
