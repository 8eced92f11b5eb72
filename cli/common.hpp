// Helpers every subcommand shares: the policy options, output sinks, message levels.
#pragma once

#include "normalize/pipeline.hpp"
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

// Adds --quiet, --verbose, --progress, --no-progress.
void add_output_options(cxxopts::Options& options);
Verbosity verbosity_from(const cxxopts::ParseResult& r);
util::ProgressMode progress_from(const cxxopts::ParseResult& r);

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

// The OCI ref name for --tag: "name:tag" -> "tag" (an OCI layout names a manifest by its tag alone).
std::string oci_tag(const std::string& tag);

void print_warnings(const normalize::Report& report, Verbosity v);

// Prints help with a worked example after the option list.
int print_help(const cxxopts::Options& options, const char* examples);

} // namespace reproimg::cli
