// reproimg normalize: rewrite a layer into the canonical form.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "normalize/compress.hpp"
#include "util/error.hpp"

#include <cstdio>

namespace reproimg::cli {

namespace {

const char* const k_examples = R"(  # A rootfs tarball from any tar program, any compression, to the canonical layer:
  reproimg normalize rootfs.tar.gz -o rootfs.tar
  # The same from a directory on disk, gzip-compressed, with Debian's volatile paths removed:
  SOURCE_DATE_EPOCH=1700000000 reproimg normalize dir:./rootfs --profile debian --compress gzip -o layer.tar.gz
  # In a pipe, with a JSON report of what each rule changed:
  tar -C rootfs -c . | reproimg normalize - -o - --report changes.json > layer.tar
)";

} // namespace

int cmd_normalize(int argc, char** argv)
{
  cxxopts::Options options("reproimg normalize",
                           "Rewrite a tar stream or a rootfs directory into the canonical layer (docs/canonical-tar.md).\n"
                           "Two inputs holding the same files give byte-identical outputs.");
  options.positional_help("IN -o OUT");
  options.add_options()
    ("input", "tar file (any dialect; gzip, bzip2, xz, zstd or none), - for stdin, or dir:PATH", cxxopts::value<std::string>(), "IN")
    ("o,output", "output file, or - for stdout", cxxopts::value<std::string>(), "OUT")
    ("compress", "output compression", cxxopts::value<std::string>()->default_value("none"), "none|gzip|zstd")
    ("report", "write a JSON report of what each rule changed", cxxopts::value<std::string>(), "FILE")
    ("memory-limit", "bytes of entry contents held in memory before spooling to $TMPDIR", cxxopts::value<std::uint64_t>()->default_value("33554432"), "BYTES");
  add_policy_options(options);
  add_output_options(options);
  options.parse_positional({"input"});
  const auto r = options.parse(argc, argv);
  if (r.count("help")) {
    return print_help(options, k_examples);
  }
  if (!r.count("input")) {
    throw util::Error("normalize: missing input (see reproimg normalize --help)");
  }
  if (!r.count("output")) {
    throw util::Error("normalize: missing -o OUT (a file, or - for stdout)");
  }
  normalize::NormalizeOptions opts;
  opts.policy = policy_from(r);
  const auto c = normalize::parse_compression(r["compress"].as<std::string>());
  if (!c) {
    throw util::Error("--compress must be none, gzip or zstd");
  }
  opts.compression = *c;
  opts.memory_limit = static_cast<size_t>(r["memory-limit"].as<std::uint64_t>());
  opts.progress = progress_from(r);
  const Verbosity verbosity = verbosity_from(r);
  const bool want_report = r.count("report") > 0;
  opts.compute_digests = want_report || verbosity == Verbosity::verbose;

  const std::string input_spec = r["input"].as<std::string>();
  const normalize::LayerSource source = normalize::parse_layer_source(input_spec);
  const std::string out_path = r["output"].as<std::string>();
  if (out_path != "-" && source.path == out_path) {
    throw util::Error("normalize: the output would overwrite the input '" + util::printable(out_path) + "'");
  }

  OutputTarget out(out_path, true);
  normalize::Report report;
  const normalize::LayerResult result = normalize::normalize_layer(source, opts, &out.sink(), report);
  if (want_report) {
    // The report is committed before the layer, so a layer never exists without its report.
    util::write_file_atomic(r["report"].as<std::string>(),
                            normalize::report_to_json(report, opts.policy, input_spec, result,
                                                      normalize::compression_name(opts.compression)));
  }
  out.commit();
  print_warnings(report, verbosity);
  if (verbosity == Verbosity::verbose) {
    std::fprintf(stderr, "reproimg: %llu entries in, %llu out; diff_id %s",
                 static_cast<unsigned long long>(report.entries_in),
                 static_cast<unsigned long long>(report.entries_out), result.diff_id.c_str());
    if (opts.compression != normalize::Compression::none) {
      std::fprintf(stderr, "; blob %s (%s)", result.blob_digest.c_str(),
                   normalize::compressor_version(opts.compression).c_str());
    }
    std::fputc('\n', stderr);
    for (const auto& [rule, stat] : report.rules()) {
      std::fprintf(stderr, "reproimg:   %-20s %llu\n", rule.c_str(), static_cast<unsigned long long>(stat.count));
    }
  }
  return 0;
}

} // namespace reproimg::cli
