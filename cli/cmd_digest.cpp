// reproimg digest: the deterministic identities of a layer.
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "image/image_normalize.hpp"
#include "normalize/raw_stream.hpp"
#include "util/error.hpp"
#include "util/spool.hpp"

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
)";

int digest_image_command(const cxxopts::ParseResult& r, const image::ImageRef& ref,
                         const normalize::NormalizeOptions& opts)
{
  std::optional<image::Platform> platform;
  if (r.count("platform")) {
    platform = image::parse_platform(r["platform"].as<std::string>());
  }
  const auto store = image::ImageStore::open(ref);
  const image::Image img = image::load_image(*store, ref, platform);
  const bool canonical = r.count("canonical") > 0;
  const image::ImageIdentities ids = image::digest_image(*store, img, canonical, opts);
  if (r.count("json")) {
    nlohmann::json doc;
    doc["manifest_digest"] = ids.manifest_digest;
    doc["config_digest"] = ids.config_digest;
    doc["platform"] = ids.platform;
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : ids.layers) {
      nlohmann::json j = {{"media_type", l.media_type}, {"compression", l.compression}, {"blob_digest", l.blob_digest},
                          {"size", l.size}, {"diff_id", l.diff_id}, {"chain_id", l.chain_id}};
      if (canonical) {
        j["canonical_diff_id"] = l.canonical_diff_id;
      }
      if (!l.note.empty()) {
        j["note"] = l.note;
      }
      layers.push_back(j);
    }
    doc["layers"] = layers;
    if (canonical) {
      doc["canonical_config_digest"] = ids.canonical_config_digest;
      doc["source_date_epoch"] = opts.policy.epoch;
    }
    std::printf("%s\n", doc.dump(2).c_str());
    return 0;
  }
  if (!ids.manifest_digest.empty()) {
    std::printf("manifest     %s\n", ids.manifest_digest.c_str());
  }
  std::printf("image ID     %s  (config digest)\nplatform     %s\n", ids.config_digest.c_str(), ids.platform.c_str());
  for (size_t i = 0; i < ids.layers.size(); ++i) {
    const auto& l = ids.layers[i];
    std::printf("layer %zu      %s\n", i + 1, l.media_type.c_str());
    std::printf("  blob       %s  (%llu bytes, %s)\n", l.blob_digest.c_str(), static_cast<unsigned long long>(l.size),
                l.compression.c_str());
    std::printf("  diff_id    %s\n  chain_id   %s\n", l.diff_id.c_str(), l.chain_id.c_str());
    if (canonical) {
      std::printf("  canonical  %s\n", l.canonical_diff_id.c_str());
    }
    if (!l.note.empty()) {
      std::printf("  note       %s\n", l.note.c_str());
    }
  }
  if (canonical) {
    std::printf("canonical image ID  %s  (SOURCE_DATE_EPOCH=%lld)\n", ids.canonical_config_digest.c_str(),
                static_cast<long long>(opts.policy.epoch));
  }
  return 0;
}

} // namespace

int cmd_digest(int argc, char** argv)
{
  cxxopts::Options options("reproimg digest",
                           "Print a layer's identities: blob digest (sha256 of the bytes as stored), diff_id (sha256\n"
                           "of the uncompressed tar) and, with --canonical, the diff_id after normalize.");
  options.positional_help("LAYER");
  options.add_options()
    ("input", "tar file (any compression), - for stdin, dir:PATH (a rootfs), or an image (oci:DIR[:tag], oci-archive:FILE, docker-archive:FILE[:name:tag], dir:PATH holding skopeo's directory transport)", cxxopts::value<std::string>(), "LAYER")
    ("platform", "for an image index: the platform to take", cxxopts::value<std::string>(), "OS/ARCH[/VARIANT]")
    ("canonical", "also compute the canonical diff_id (the policy options below apply)")
    ("json", "print JSON instead of text");
  add_policy_options(options);
  add_output_options(options);
  options.parse_positional({"input"});
  const auto r = options.parse(argc, argv);
  if (r.count("help")) {
    return print_help(options, k_examples);
  }
  if (!r.count("input")) {
    throw util::Error("digest: missing LAYER (see reproimg digest --help)");
  }
  const std::string spec = r["input"].as<std::string>();
  if (const auto image_ref = image::parse_image_ref(spec)) {
    normalize::NormalizeOptions image_opts;
    image_opts.policy = policy_from(r);
    image_opts.progress = progress_from(r);
    return digest_image_command(r, *image_ref, image_opts);
  }
  normalize::LayerSource source = normalize::parse_layer_source(spec);
  const bool canonical = r.count("canonical") > 0 || source.kind == normalize::LayerSource::Kind::directory;
  normalize::NormalizeOptions opts;
  opts.policy = policy_from(r);
  opts.progress = progress_from(r);
  const Verbosity verbosity = verbosity_from(r);

  std::optional<normalize::StreamDigests> stored;
  std::optional<normalize::LayerResult> canon;
  normalize::Report report;

  if (source.kind == normalize::LayerSource::Kind::directory) {
    canon = normalize::normalize_layer(source, opts, nullptr, report);
  } else {
    util::Fd fd;
    if (source.path == "-") {
      fd = canonical ? util::copy_stdin_to_temp() : util::Fd(::dup(0));
    } else {
      fd = util::open_read(source.path);
    }
    if (!canonical) {
      stored = normalize::digest_stream(fd.get(), source.display_name());
    } else {
      // The two hashes are independent passes: run them on two cores (each reads the file itself).
      std::exception_ptr canon_error;
      normalize::LayerSource canon_source = source;
      std::string temp_path;
      if (source.path == "-") {
        temp_path = "/proc/self/fd/" + std::to_string(fd.get());
        canon_source.path = temp_path;
      }
      // An input that is canonical already is then only compared, not hashed twice.
      normalize::NormalizeOptions canon_opts = opts;
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
        stored = normalize::digest_stream(own.valid() ? own.get() : fd.get(), source.display_name());
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
  }
  print_warnings(report, verbosity);

  if (r.count("json")) {
    nlohmann::json doc;
    doc["input"] = util::printable(spec);
    if (stored) {
      doc["compression"] = stored->compression;
      doc["blob_digest"] = stored->blob_digest;
      doc["blob_size"] = stored->blob_size;
      doc["diff_id"] = stored->diff_id;
      doc["tar_size"] = stored->tar_size;
      if (stored->ending != normalize::TarEnding::end_blocks) {
        doc["note"] = normalize::ending_note(stored->ending);
      }
    }
    if (canon) {
      doc["canonical_diff_id"] = canon->diff_id;
      doc["canonical_tar_size"] = canon->tar_size;
      doc["source_date_epoch"] = opts.policy.epoch;
    }
    std::printf("%s\n", doc.dump(2).c_str());
  } else {
    if (stored) {
      std::printf("compression  %s\n", stored->compression.c_str());
      std::printf("blob         %s  (%llu bytes)\n", stored->blob_digest.c_str(),
                  static_cast<unsigned long long>(stored->blob_size));
      std::printf("diff_id      %s  (%llu bytes uncompressed)\n", stored->diff_id.c_str(),
                  static_cast<unsigned long long>(stored->tar_size));
      if (stored->ending != normalize::TarEnding::end_blocks) {
        std::printf("note         %s\n", normalize::ending_note(stored->ending).c_str());
      }
    }
    if (canon) {
      std::printf("canonical    %s  (%llu bytes, SOURCE_DATE_EPOCH=%lld)\n", canon->diff_id.c_str(),
                  static_cast<unsigned long long>(canon->tar_size), static_cast<long long>(opts.policy.epoch));
    }
  }
  return 0;
}

} // namespace reproimg::cli
