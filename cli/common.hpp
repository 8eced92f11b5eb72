// Helpers every subcommand shares: the policy options, output sinks, message levels.
#pragma once

#include "image/docker_archive.hpp"
#include "image/image_writer.hpp"
#include "image/oci_layout.hpp"
#include "image/registry_push.hpp"
#include "normalize/pipeline.hpp"
#include "registry/reference.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <cxxopts.hpp>
#include <memory>
#include <optional>
#include <string>

namespace reproimg::cli {

// How chatty a command is: --quiet drops warnings, --verbose adds detail.
enum class Verbosity { quiet, normal, verbose };

// Adds --source-date-epoch, --mtime-policy, --owner, --owner-map, --keep-names, --xattrs,
// --exclude, --truncate, --profile, --max-sparse-fill.
void add_policy_options(cxxopts::Options& options);
normalize::Policy policy_from(const cxxopts::ParseResult& r);

// Adds the output options every command has: --quiet, --verbose, --progress, --no-progress,
// --color and --help.
void add_output_options(cxxopts::Options& options);
Verbosity verbosity_from(const cxxopts::ParseResult& r);
util::ProgressMode progress_from(const cxxopts::ParseResult& r);
// --color auto|always|never for what goes to fd: auto colours a terminal unless NO_COLOR is set.
// Throws util::Error for another value.
bool color_from(const cxxopts::ParseResult& r, int fd);

// Adds the options of registry access (docker:// references), as skopeo spells them: --creds
// USER[:PASS], --tls-verify=false, --cert-dir DIR, --no-cache. parse_arguments applies them (to
// both sides of a command that reads and pushes, unless a side's own option says otherwise).
void add_registry_options(cxxopts::Options& options);

// Adds --src-creds, --src-tls-verify and --src-cert-dir (skopeo copy's) to a command that reads
// images from a registry and pushes them (normalize, build): the settings of what it reads.
void add_source_options(cxxopts::Options& options);

// Adds --dest-creds, --dest-tls-verify, --dest-cert-dir (the settings of the push) and
// --digestfile FILE (skopeo copy's: the pushed manifest digest written there) to a command that
// writes images. A plain option and a side's option that differ are a usage error.
void add_push_options(cxxopts::Options& options);

// Where a command writes an image: OUT as it is, or for -o docker://REF an OCI layout in a
// temporary directory that push() then sends to the registry (so the pushed manifest is byte for
// byte what an oci: output gets).
class ImageDestination {
public:
  // Throws util::Error for a docker:// output with a format other than oci, and for --digestfile
  // without one.
  ImageDestination(const cxxopts::ParseResult& r, const std::string& out, image::ImageFormat format);
  ~ImageDestination();
  // Where the image writer writes.
  const std::string& path() const { return m_path; }
  // For the image writer: a push starts sending layers while the image is written (empty for a
  // local output).
  image::StagedBlob upload_hook() const;
  bool is_registry() const { return m_registry.has_value(); }
  // Pushes the layout written at path() and prints "Pushed REF@DIGEST" (to stderr when stdout
  // carries JSON). Nothing for a local output.
  void push(bool json_on_stdout) const;

private:
  std::string m_path;
  std::optional<registry::Reference> m_registry;
  std::unique_ptr<util::TempDir> m_temp;
  std::unique_ptr<image::EarlyUploads> m_early; // declared after m_temp: cancelled before it goes
  std::string m_digestfile;
};

// Parses a command's arguments and applies the output options that act everywhere (--color of
// messages on stderr), and the registry options when the command has them. An operand beyond those the command takes is a usage error naming it, as
// is an empty one (a variable that expanded to nothing).
cxxopts::ParseResult parse_arguments(cxxopts::Options& options, int argc, char** argv);

// "reproimg: error: " or "reproimg: warning: ", coloured when messages on stderr are.
std::string message_prefix(const char* kind);

// Where output goes: "-" is stdout (refused on a terminal for binary output), anything else
// an AtomicFile that appears only on commit().
class OutputTarget {
public:
  OutputTarget(const std::string& path, bool binary);
  util::ByteSink& sink() { return *m_sink; }
  void commit();

private:
  std::unique_ptr<util::AtomicFile> m_file;
  std::unique_ptr<util::FdSink> m_sink;
};

// --compress, or fallback when it is not given; throws util::Error for an unknown name.
normalize::Compression compression_from(const cxxopts::ParseResult& r, const std::string& fallback);

// Adds --threads N (compression threads; default: the cores this process may run on). The
// compressed bytes are the same for every N.
void add_threads_option(cxxopts::Options& options);
// --threads, or the available cores; throws util::Error for 0 or a value over 1024.
unsigned threads_from(const cxxopts::ParseResult& r);

// What the commands that write an image (import, build) read alike into their options (an
// image::ImportOptions or dockerfile::BuildOptions): the policy and progress options, --compress
// (default gzip), --platform, --format, --tag (a RepoTags entry for a docker-archive, else the
// OCI ref name, as given: --tag hello:1 is read back as oci:DIR:hello:1, as skopeo and podman
// record it).
template <typename ImageOptions>
void image_output_from(const cxxopts::ParseResult& r, ImageOptions& opts)
{
  opts.layer.policy = policy_from(r);
  opts.layer.progress = progress_from(r);
  opts.layer.compression = compression_from(r, "gzip");
  opts.layer.threads = threads_from(r);
  opts.platform = image::parse_platform(r["platform"].as<std::string>());
  opts.format = image::parse_image_format(r["format"].as<std::string>());
  const bool docker = opts.format == image::ImageFormat::docker_archive;
  if (docker && r.count("compress") && opts.layer.compression != normalize::Compression::none) {
    throw util::Error("--compress: a docker-archive stores its layers uncompressed (what every docker load reads); "
                      "drop --compress or use --format oci-archive");
  }
  if (r.count("tag") && docker) {
    opts.repo_tags.push_back(image::parse_repo_tag(r["tag"].as<std::string>()));
  } else if (r.count("tag")) {
    opts.tag = image::parse_oci_ref_name(r["tag"].as<std::string>());
  }
}

void print_warnings(const normalize::Report& report, Verbosity v);

// Prints help with a worked example after the option list.
int print_help(const cxxopts::Options& options, const char* examples);

} // namespace reproimg::cli
