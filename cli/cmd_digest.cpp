// reproimg digest: the deterministic identities of a layer.
#include "cli/commands.hpp"
#include "cli/common.hpp"
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
)";

// Copies stdin to an unlinked temporary file, so it can be read twice.
util::Fd stdin_to_temp()
{
  const std::string dir = util::temp_directory();
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::string templ = dir + "/reproimg-stdin.XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    fd = ::mkostemp(buf.data(), O_CLOEXEC);
    if (fd < 0) {
      util::throw_errno("cannot create a temporary file in", dir);
    }
    ::unlink(buf.data());
  }
  util::Fd out(fd);
  std::vector<unsigned char> buf(1 << 20);
  for (;;) {
    const size_t n = util::read_full(0, buf.data(), buf.size(), "<stdin>");
    if (n == 0) {
      break;
    }
    util::write_all(fd, buf.data(), n, "temporary copy of stdin");
  }
  return out;
}

} // namespace

int cmd_digest(int argc, char** argv)
{
  cxxopts::Options options("reproimg digest",
                           "Print a layer's identities: blob digest (sha256 of the bytes as stored), diff_id (sha256\n"
                           "of the uncompressed tar) and, with --canonical, the diff_id after normalize.");
  options.positional_help("LAYER");
  options.add_options()
    ("input", "tar file (any compression), - for stdin, or dir:PATH", cxxopts::value<std::string>(), "LAYER")
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
      fd = canonical ? stdin_to_temp() : util::Fd(::dup(0));
      if (canonical) {
        ::lseek(fd.get(), 0, SEEK_SET);
      }
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
      std::thread worker([&] {
        try {
          canon = normalize::normalize_layer(canon_source, opts, nullptr, report);
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
    }
    if (canon) {
      std::printf("canonical    %s  (%llu bytes, SOURCE_DATE_EPOCH=%lld)\n", canon->diff_id.c_str(),
                  static_cast<unsigned long long>(canon->tar_size), static_cast<long long>(opts.policy.epoch));
    }
  }
  return 0;
}

} // namespace reproimg::cli
