// reproimg normalize: rewrite a layer into the canonical form.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "image/docker_archive.hpp"
#include "image/image_normalize.hpp"
#include "normalize/compress.hpp"
#include "util/error.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"

#include <cstdio>

namespace reproimg::cli {

namespace {

const char* const k_examples = R"(  # A rootfs tarball from any tar program, any compression, to the canonical layer:
  reproimg normalize rootfs.tar.gz -o rootfs.tar
  # The same from a directory on disk, gzip-compressed, with Debian's volatile paths removed:
  SOURCE_DATE_EPOCH=1700000000 reproimg normalize dir:./rootfs --profile debian --compress gzip -o layer.tar.gz
  # In a pipe, with a JSON report of what each rule changed:
  tar -C rootfs -c . | reproimg normalize - -o - --report changes.json > layer.tar
  # A whole image (OCI layout, oci-archive or docker-archive): every layer, the config's times:
  reproimg normalize docker-archive:saved.tar -o oci-normalised --tag 1
  # From one registry to another, each side with its own credentials:
  reproimg normalize docker://registry.a/app:1 -o docker://registry.b/app:1 --src-creds reader --dest-creds writer
)";

int normalize_image_command(const cxxopts::ParseResult& r, const image::ImageRef& ref,
                            const normalize::NormalizeOptions& opts, Verbosity verbosity)
{
  std::optional<image::Platform> platform;
  if (r.count("platform")) {
    platform = image::parse_platform(r["platform"].as<std::string>());
  }
  const auto store = image::ImageStore::open(ref);
  const image::Image img = image::load_image(*store, ref, platform);
  image::ImageTarget target;
  target.format = image::parse_image_format(r["format"].as<std::string>());
  const ImageDestination destination(r, r["output"].as<std::string>(), target.format);
  target.out = destination.path();
  target.staged_blob = destination.upload_hook();
  if (target.out == "-") {
    throw util::Error("normalize: an image is written to a directory or file, not to stdout");
  }
  if (r["output"].as<std::string>() == ref.path || util::same_file(r["output"].as<std::string>(), ref.path)) {
    throw util::Error("normalize: the output would overwrite the input '" + util::printable(target.out) + "'");
  }
  if (r.count("tag")) {
    const std::string tag = r["tag"].as<std::string>();
    if (target.format == image::ImageFormat::docker_archive) {
      target.repo_tags.push_back(image::parse_repo_tag(tag));
    } else {
      target.tag = image::parse_oci_ref_name(tag);
    }
  } else if (target.format == image::ImageFormat::docker_archive) {
    target.repo_tags = img.repo_tags;
  } else if (!ref.reference.empty()) {
    target.tag = ref.reference;
  }
  normalize::Report report;
  for (const auto& w : store->warnings()) report.warn(w);
  const image::WrittenImage written = image::normalize_image(*store, img, opts, target, report);
  print_warnings(report, verbosity);
  destination.push(false);
  if (verbosity != Verbosity::quiet) {
    if (!written.manifest_digest.empty()) {
      std::printf("manifest  %s\n", written.manifest_digest.c_str());
    }
    std::printf("image ID  %s\n", written.config_digest.c_str());
    for (size_t i = 0; i < written.layers.size(); ++i) {
      std::printf("layer %zu   %s  (diff_id %s)\n", i + 1, written.layers[i].blob_digest.c_str(),
                  written.layers[i].diff_id.c_str());
    }
  }
  return util::exit_code(util::ExitCode::ok);
}

} // namespace

int cmd_normalize(int argc, char** argv)
{
  cxxopts::Options options("reproimg normalize",
                           "Rewrite a tar stream or a rootfs directory into the canonical layer (docs/canonical-tar.md).\n"
                           "Two inputs holding the same files give byte-identical outputs.");
  options.positional_help("IN -o OUT");
  options.add_options()
    ("input", "tar file (any dialect; gzip, bzip2, xz, zstd or none), - for stdin, dir:PATH (a rootfs), or an image (oci:DIR[:tag], oci-archive:FILE, docker-archive:FILE[:name:tag], docker://REF, dir:PATH holding skopeo's directory transport)", cxxopts::value<std::string>(), "IN")
    ("o,output", "output file, or - for stdout; for an image also docker://REF (a push)", cxxopts::value<std::string>(), "OUT")
    ("compress", "output compression (default: none for a layer, gzip for an image's layers)", cxxopts::value<std::string>(), "none|gzip|zstd")
    ("format", "for an image: the output format", cxxopts::value<std::string>()->default_value("oci"), "oci|oci-archive|docker-archive")
    ("tag", "for an image: the reference of the output as given (oci: --tag hello:1 is read as oci:OUT:hello:1) or name:tag (docker-archive)", cxxopts::value<std::string>(), "TAG")
    ("platform", "for an image index: the platform to take", cxxopts::value<std::string>(), "OS/ARCH[/VARIANT]")
    ("report", "write a JSON report of what each rule changed", cxxopts::value<std::string>(), "FILE")
    ("memory-limit", "bytes of entry contents held in memory before spooling to $TMPDIR", cxxopts::value<std::uint64_t>()->default_value("33554432"), "BYTES");
  add_threads_option(options);
  add_policy_options(options);
  add_output_options(options);
  add_registry_options(options);
  add_source_options(options);
  add_push_options(options);
  options.parse_positional({"input"});
  const auto r = parse_arguments(options, argc, argv);
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
  const std::string input_spec = r["input"].as<std::string>();
  const std::optional<image::ImageRef> image_ref = image::parse_image_ref(input_spec);
  opts.compression = compression_from(r, image_ref ? "gzip" : "none");
  opts.memory_limit = static_cast<size_t>(r["memory-limit"].as<std::uint64_t>());
  opts.threads = threads_from(r);
  opts.progress = progress_from(r);
  const Verbosity verbosity = verbosity_from(r);
  const bool want_report = r.count("report") > 0;
  opts.compute_digests = want_report || verbosity == Verbosity::verbose;

  if (image_ref) {
    return normalize_image_command(r, *image_ref, opts, verbosity);
  }
  const readers::LayerSource source = readers::parse_layer_source(input_spec);
  const std::string out_path = r["output"].as<std::string>();
  if (r.count("digestfile") || registry::is_registry_spec(out_path)) {
    throw util::Error("normalize: a layer is written to a file or stdout; -o docker:// and --digestfile are for an image");
  }
  if (out_path != "-" && source.path == out_path) {
    throw util::Error("normalize: the output would overwrite the input '" + util::printable(out_path) + "'");
  }

  // Both outputs are created before the work, so that a path that cannot be written is said at once.
  OutputTarget out(out_path, true);
  std::optional<util::AtomicFile> report_file;
  if (want_report) {
    report_file.emplace(r["report"].as<std::string>());
  }
  normalize::Report report;
  const normalize::LayerResult result = normalize::normalize_layer(source, opts, &out.sink(), report);
  out.sink().finish();
  if (report_file) {
    const std::string json = normalize::report_to_json(report, opts.policy, input_spec, result,
                                                       normalize::compression_name(opts.compression));
    util::write_all(report_file->fd(), json.data(), json.size(), report_file->path());
  }
  {
    // The report is committed before the layer, so a layer never exists without its report; an
    // interrupt comes before both or after both.
    const util::InterruptDeferral defer;
    if (report_file) {
      report_file->commit();
    }
    out.commit();
  }
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
  return util::exit_code(util::ExitCode::ok);
}

} // namespace reproimg::cli
