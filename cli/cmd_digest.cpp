// reproimg digest: the deterministic identities of layers and images.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "image/image_normalize.hpp"
#include "readers/decompress.hpp"
#include "readers/raw_stream.hpp"
#include "util/error.hpp"
#include "util/spool.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

namespace reproimg::cli {

namespace {

const char* const k_examples = R"(  # The blob digest and diff_id of a layer as stored:
  reproimg digest layer.tar.gz
  # ...and the diff_id it would have after `reproimg normalize` (nothing is written):
  SOURCE_DATE_EPOCH=0 reproimg digest --canonical layer.tar.gz
  # The canonical tree digest of a rootfs directory, as JSON:
  reproimg digest --canonical --json dir:./rootfs
  # An image: manifest digest, image ID, and per layer blob digest, diff_id and ChainID, all
  # checked against each other; with --canonical the image ID it would have after normalize:
  reproimg digest --canonical oci:./base-oci:1
  reproimg digest docker-archive:saved.tar:debian:12 --json
  # Several inputs: each one's identities after an "input" line (with --json, an array):
  reproimg digest --canonical a.tar.gz b.tar.zst
)";

// What every input is digested with: the options, read once.
struct DigestRequest {
  bool canonical = false;
  std::optional<image::Platform> platform;
  normalize::NormalizeOptions options;
  Verbosity verbosity = Verbosity::normal;
};

nlohmann::json image_identities(const std::string& spec, const image::ImageRef& ref, const DigestRequest& request)
{
  const auto store = image::ImageStore::open(ref);
  const image::Image img = image::load_image(*store, ref, request.platform);
  const image::ImageIdentities ids = image::digest_image(*store, img, request.canonical, request.options);
  normalize::Report warnings;
  for (const auto& w : store->warnings()) warnings.warn(w);
  for (const auto& l : ids.layers) {
    for (const auto& w : l.warnings) warnings.warn(w);
  }
  print_warnings(warnings, request.verbosity);
  nlohmann::json doc;
  doc["input"] = util::printable(spec);
  doc["manifest_digest"] = ids.manifest_digest;
  doc["config_digest"] = ids.config_digest;
  doc["platform"] = ids.platform;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : ids.layers) {
    nlohmann::json j = {{"media_type", l.media_type}, {"compression", l.compression}, {"blob_digest", l.blob_digest},
                        {"size", l.size}, {"diff_id", l.diff_id}, {"chain_id", l.chain_id}};
    if (request.canonical) {
      j["canonical_diff_id"] = l.canonical_diff_id;
    }
    if (!l.note.empty()) {
      j["note"] = l.note;
    }
    layers.push_back(j);
  }
  doc["layers"] = layers;
  if (request.canonical) {
    doc["canonical_config_digest"] = ids.canonical_config_digest;
    doc["source_date_epoch"] = request.options.policy.epoch;
  }
  return doc;
}

void print_image_identities(const nlohmann::json& doc)
{
  if (!doc["manifest_digest"].get<std::string>().empty()) {
    std::printf("manifest     %s\n", doc["manifest_digest"].get<std::string>().c_str());
  }
  std::printf("image ID     %s  (config digest)\nplatform     %s\n", doc["config_digest"].get<std::string>().c_str(),
              doc["platform"].get<std::string>().c_str());
  size_t i = 0;
  for (const auto& l : doc["layers"]) {
    std::printf("layer %zu      %s\n", ++i, l["media_type"].get<std::string>().c_str());
    std::printf("  blob       %s  (%llu bytes, %s)\n", l["blob_digest"].get<std::string>().c_str(),
                static_cast<unsigned long long>(l["size"].get<std::uint64_t>()), l["compression"].get<std::string>().c_str());
    std::printf("  diff_id    %s\n  chain_id   %s\n", l["diff_id"].get<std::string>().c_str(),
                l["chain_id"].get<std::string>().c_str());
    if (l.contains("canonical_diff_id")) {
      std::printf("  canonical  %s\n", l["canonical_diff_id"].get<std::string>().c_str());
    }
    if (l.contains("note")) {
      std::printf("  note       %s\n", l["note"].get<std::string>().c_str());
    }
  }
  if (doc.contains("canonical_config_digest")) {
    std::printf("canonical image ID  %s  (SOURCE_DATE_EPOCH=%lld)\n", doc["canonical_config_digest"].get<std::string>().c_str(),
                static_cast<long long>(doc["source_date_epoch"].get<std::int64_t>()));
  }
}

// Is the tar file at fd compressed? Its first bytes say (read by position: fd's offset stays).
bool is_compressed(int fd)
{
  unsigned char head[4096];
  const ssize_t n = ::pread(fd, head, sizeof head, 0);
  if (n <= 0) {
    return false; // an empty or unreadable file: the read that follows says what is wrong
  }
  const auto size = static_cast<size_t>(n);
  return readers::sniff_codec(head, size, size < sizeof head).codec != readers::Codec::none;
}

// A compressed layer: one decompression gives the blob digest, the diff_id and the canonical
// stream (the blob and the tar stream hashed on threads of their own while the canonical layer
// is built), instead of two passes that each decompress it.
void digest_compressed_tar(const readers::LayerSource& source, const DigestRequest& request,
                           std::optional<readers::StreamDigests>& stored, std::optional<normalize::LayerResult>& canon,
                           normalize::Report& report)
{
  normalize::NormalizeOptions options = request.options;
  options.input_identities = normalize::InputIdentities::compute;
  canon = normalize::normalize_layer(source, options, nullptr, report);
  readers::StreamDigests d;
  d.compression = canon->input_compression;
  d.blob_digest = canon->input_blob_digest;
  d.blob_size = canon->input_blob_size;
  d.diff_id = canon->input_diff_id;
  d.tar_size = canon->input_tar_size;
  d.entries = canon->input_entries;
  d.ending = canon->input_ending;
  stored = std::move(d); // its warnings are in the report already, from the same read
}

// The blob digest and diff_id as stored, and the canonical diff_id, of a tar file or stdin. An
// uncompressed file: two independent passes, run on two cores (each reads the file itself; the
// canonical one reads contents by offset and compares its stream with the input instead of hashing
// it). The canonical pass, the longer, shows the progress.
void digest_tar_both_ways(const readers::LayerSource& source, util::Fd& fd, const DigestRequest& request,
                          std::optional<readers::StreamDigests>& stored, std::optional<normalize::LayerResult>& canon,
                          normalize::Report& report)
{
  readers::LayerSource canon_source = source;
  if (source.path == "-") {
    canon_source.path = "/proc/self/fd/" + std::to_string(fd.get());
    canon_source.label = source.display_name(); // "<stdin>" in messages
  }
  if (is_compressed(fd.get())) {
    digest_compressed_tar(canon_source, request, stored, canon, report);
    return;
  }
  std::exception_ptr canon_error;
  // An input that is canonical already is then only compared, not hashed twice.
  normalize::NormalizeOptions canon_opts = request.options;
  canon_opts.compare_with_input = true;
  std::thread worker([&] {
    try {
      canon = normalize::normalize_layer(canon_source, canon_opts, nullptr, report);
    } catch (...) {
      canon_error = std::current_exception();
    }
  });
  std::exception_ptr stored_error;
  try {
    util::Fd own = util::Fd(::open(("/proc/self/fd/" + std::to_string(fd.get())).c_str(), O_RDONLY | O_CLOEXEC));
    // Its warnings are the canonical read's too, which puts them in the report.
    stored = readers::digest_stream(own.valid() ? own.get() : fd.get(), source.display_name());
  } catch (...) {
    stored_error = std::current_exception();
  }
  worker.join();
  if (stored_error) {
    std::rethrow_exception(stored_error);
  }
  if (canon_error) {
    std::rethrow_exception(canon_error);
  }
  if (canon->same_as_input) {
    canon->diff_id = stored->blob_digest; // the canonical stream is the input, byte for byte
  }
}

nlohmann::json layer_identities(const std::string& spec, const DigestRequest& request)
{
  const readers::LayerSource source = readers::parse_layer_source(spec);
  const bool canonical = request.canonical || source.kind == readers::LayerSource::Kind::directory;
  std::optional<readers::StreamDigests> stored;
  std::optional<normalize::LayerResult> canon;
  normalize::Report report;
  if (source.kind == readers::LayerSource::Kind::directory) {
    canon = normalize::normalize_layer(source, request.options, nullptr, report);
  } else {
    util::Fd fd;
    if (source.path == "-") {
      fd = canonical ? util::copy_stdin_to_temp() : util::Fd(::dup(0));
    } else {
      fd = util::open_read(source.path);
    }
    if (canonical) {
      digest_tar_both_ways(source, fd, request, stored, canon, report);
    } else {
      util::Progress progress(request.options.progress, "reading " + source.display_name());
      stored = readers::digest_stream(fd.get(), source.display_name(), nullptr, &progress);
      for (const auto& w : stored->warnings) report.warn(w);
    }
  }
  print_warnings(report, request.verbosity);

  nlohmann::json doc;
  doc["input"] = util::printable(spec);
  if (stored) {
    doc["compression"] = stored->compression;
    doc["blob_digest"] = stored->blob_digest;
    doc["blob_size"] = stored->blob_size;
    doc["diff_id"] = stored->diff_id;
    doc["tar_size"] = stored->tar_size;
    if (stored->ending != readers::TarEnding::end_blocks) {
      doc["note"] = readers::ending_note(stored->ending);
    }
  }
  if (canon) {
    doc["canonical_diff_id"] = canon->diff_id;
    doc["canonical_tar_size"] = canon->tar_size;
    doc["source_date_epoch"] = request.options.policy.epoch;
  }
  return doc;
}

void print_layer_identities(const nlohmann::json& doc)
{
  if (doc.contains("blob_digest")) {
    std::printf("compression  %s\n", doc["compression"].get<std::string>().c_str());
    std::printf("blob         %s  (%llu bytes)\n", doc["blob_digest"].get<std::string>().c_str(),
                static_cast<unsigned long long>(doc["blob_size"].get<std::uint64_t>()));
    std::printf("diff_id      %s  (%llu bytes uncompressed)\n", doc["diff_id"].get<std::string>().c_str(),
                static_cast<unsigned long long>(doc["tar_size"].get<std::uint64_t>()));
    if (doc.contains("note")) {
      std::printf("note         %s\n", doc["note"].get<std::string>().c_str());
    }
  }
  if (doc.contains("canonical_diff_id")) {
    std::printf("canonical    %s  (%llu bytes, SOURCE_DATE_EPOCH=%lld)\n", doc["canonical_diff_id"].get<std::string>().c_str(),
                static_cast<unsigned long long>(doc["canonical_tar_size"].get<std::uint64_t>()),
                static_cast<long long>(doc["source_date_epoch"].get<std::int64_t>()));
  }
}

nlohmann::json identities(const std::string& spec, const DigestRequest& request)
{
  if (const auto image_ref = image::parse_image_ref(spec)) {
    return image_identities(spec, *image_ref, request);
  }
  return layer_identities(spec, request);
}

void print_identities(const nlohmann::json& doc)
{
  if (doc.contains("config_digest")) {
    print_image_identities(doc);
  } else {
    print_layer_identities(doc);
  }
}

} // namespace

int cmd_digest(int argc, char** argv)
{
  cxxopts::Options options("reproimg digest",
                           "Print the identities of each input: for a layer, blob digest (sha256 of the bytes as\n"
                           "stored), diff_id (sha256 of the uncompressed tar) and, with --canonical, the diff_id after\n"
                           "normalize; for an image, its manifest digest, image ID and every layer's. Every input is\n"
                           "read; one that cannot be is said on stderr, and the exit code is then 2.");
  options.positional_help("INPUT...");
  options.add_options()
    ("inputs", "tar files (any compression), - for stdin, dir:PATH, or images (oci:DIR[:tag], oci-archive:FILE, docker-archive:FILE[:name:tag], docker://REF)", cxxopts::value<std::vector<std::string>>(), "INPUT...")
    ("platform", "for an image index: the platform to take", cxxopts::value<std::string>(), "OS/ARCH[/VARIANT]")
    ("canonical", "also compute the canonical diff_id (the policy options below apply)")
    ("json", "print JSON instead of text (an array of one object per input when there are several)");
  add_policy_options(options);
  add_output_options(options);
  add_registry_options(options);
  options.parse_positional({"inputs"});
  const auto r = parse_arguments(options, argc, argv);
  if (r.count("help")) {
    return print_help(options, k_examples);
  }
  if (!r.count("inputs")) {
    throw util::Error("digest: missing INPUT (see reproimg digest --help)");
  }
  const auto specs = r["inputs"].as<std::vector<std::string>>();
  if (std::count(specs.begin(), specs.end(), "-") > 1) {
    throw util::Error("digest: standard input (-) can be read once only");
  }
  DigestRequest request;
  request.canonical = r.count("canonical") > 0;
  if (r.count("platform")) {
    request.platform = image::parse_platform(r["platform"].as<std::string>());
  }
  request.options.policy = policy_from(r);
  request.options.progress = progress_from(r);
  request.verbosity = verbosity_from(r);
  const bool json = r.count("json") > 0;
  if (specs.size() == 1) {
    const nlohmann::json doc = identities(specs[0], request);
    if (json) {
      std::printf("%s\n", doc.dump(2).c_str());
    } else {
      print_identities(doc);
    }
    return util::exit_code(util::ExitCode::ok);
  }
  // Several inputs: each is read (as sha256sum reads every file), a failure said and the next read.
  nlohmann::json docs = nlohmann::json::array();
  int status = util::exit_code(util::ExitCode::ok);
  size_t printed = 0;
  for (const auto& spec : specs) {
    try {
      const nlohmann::json doc = identities(spec, request);
      if (json) {
        docs.push_back(doc);
      } else {
        std::printf("%sinput        %s\n", printed++ ? "\n" : "", util::printable(spec).c_str());
        print_identities(doc);
      }
    } catch (const util::Error& e) {
      std::fflush(stdout);
      std::fprintf(stderr, "%s%s\n", message_prefix("error").c_str(), e.what());
      status = util::exit_code(e.code());
    }
  }
  if (json) {
    std::printf("%s\n", docs.dump(2).c_str());
  }
  return status;
}

} // namespace reproimg::cli
