// Shared option handling for the subcommands.
#include "cli/common.hpp"
#include "image/registry_push.hpp"
#include "registry/auth.hpp"
#include "registry/cache.hpp"
#include "registry/client.hpp"
#include "util/spool.hpp"

#include "util/error.hpp"
#include "util/parallel.hpp"

#include <cstdio>
#include <cstdlib>

namespace reproimg::cli {

void add_policy_options(cxxopts::Options& options)
{
  options.add_options("Canonical policy")
    ("source-date-epoch", "E, the time every mtime is clamped to (default: $SOURCE_DATE_EPOCH, else 0)", cxxopts::value<std::int64_t>(), "SECONDS")
    ("mtime-policy", "clamp: mtime = min(mtime, E); set: mtime = E", cxxopts::value<std::string>()->default_value("clamp"), "clamp|set")
    ("owner", "force every entry's numeric owner", cxxopts::value<std::string>(), "UID:GID")
    ("owner-map", "map an id: OLD=NEW (uid and gid), u:OLD=NEW or g:OLD=NEW; repeatable", cxxopts::value<std::vector<std::string>>(), "MAP")
    ("keep-names", "keep user and group names (cleared by default)")
    ("xattrs", "which xattrs to keep", cxxopts::value<std::string>()->default_value("capability"), "capability|all|none")
    ("exclude", "drop entries matching GLOB and everything below them; repeatable", cxxopts::value<std::vector<std::string>>(), "GLOB")
    ("truncate", "empty regular files matching GLOB; repeatable", cxxopts::value<std::vector<std::string>>(), "GLOB")
    ("profile", "add a set of volatile paths: debian", cxxopts::value<std::vector<std::string>>(), "NAME")
    ("max-sparse-fill", "refuse a sparse file whose holes exceed this many bytes", cxxopts::value<std::uint64_t>()->default_value("1073741824"), "BYTES");
}

normalize::Policy policy_from(const cxxopts::ParseResult& r)
{
  normalize::Policy p;
  if (r.count("source-date-epoch")) {
    p.epoch = r["source-date-epoch"].as<std::int64_t>();
    if (p.epoch < 0) {
      throw util::Error("--source-date-epoch must not be negative");
    }
  } else if (const auto e = normalize::source_date_epoch_from_env()) {
    p.epoch = *e;
  }
  const std::string mp = r["mtime-policy"].as<std::string>();
  if (mp == "clamp") {
    p.mtime = normalize::MtimePolicy::clamp;
  } else if (mp == "set") {
    p.mtime = normalize::MtimePolicy::set;
  } else {
    throw util::Error("--mtime-policy must be clamp or set, not '" + util::printable(mp) + "'");
  }
  if (r.count("owner")) {
    p.owner = normalize::parse_owner(r["owner"].as<std::string>());
  }
  if (r.count("owner-map")) {
    for (const auto& m : r["owner-map"].as<std::vector<std::string>>()) {
      normalize::parse_owner_map(m, p);
    }
  }
  p.keep_names = r.count("keep-names") > 0;
  const std::string x = r["xattrs"].as<std::string>();
  if (x == "capability") {
    p.xattrs = normalize::XattrPolicy::capability;
  } else if (x == "all") {
    p.xattrs = normalize::XattrPolicy::all;
  } else if (x == "none") {
    p.xattrs = normalize::XattrPolicy::none;
  } else {
    throw util::Error("--xattrs must be capability, all or none, not '" + util::printable(x) + "'");
  }
  if (r.count("exclude")) {
    p.excludes = r["exclude"].as<std::vector<std::string>>();
  }
  if (r.count("truncate")) {
    p.truncates = r["truncate"].as<std::vector<std::string>>();
  }
  if (r.count("profile")) {
    for (const auto& name : r["profile"].as<std::vector<std::string>>()) {
      if (!normalize::apply_profile(p, name)) {
        throw util::Error("unknown --profile '" + util::printable(name) + "' (known: debian)");
      }
    }
  }
  p.max_sparse_fill = r["max-sparse-fill"].as<std::uint64_t>();
  return p;
}

void add_output_options(cxxopts::Options& options)
{
  options.add_options("Output")
    ("q,quiet", "print nothing but errors")
    ("v,verbose", "say more about what was done")
    ("progress", "always show progress on stderr")
    ("no-progress", "never show progress")
    ("color", "colour the output: auto (on a terminal, unless NO_COLOR is set), always or never",
     cxxopts::value<std::string>()->default_value("auto"), "WHEN")
    ("h,help", "show this help");
}

namespace {

// Whether messages on stderr are coloured: decided by the command's --color, else as auto.
std::optional<bool> g_stderr_color;

bool color_for(const std::string& when, int fd)
{
  if (when == "always") {
    return true;
  }
  if (when == "never") {
    return false;
  }
  if (when != "auto") {
    throw util::Error("--color must be auto, always or never, not '" + util::printable(when) + "'");
  }
  const char* no_color = std::getenv("NO_COLOR");
  return util::is_terminal(fd) && !(no_color && *no_color);
}

} // namespace

bool color_from(const cxxopts::ParseResult& r, int fd)
{
  return color_for(r["color"].as<std::string>(), fd);
}

namespace {

bool g_registry_options = false; // the command added them
bool g_source_options = false;   // --src-* (a command that reads from a registry and pushes)
bool g_push_options = false;     // --dest-* (a command that pushes)

// One setting of one side: the side's option (--src-NAME, --dest-NAME) when the command has it
// and it was given, else the plain --NAME; both given with different values is a usage error.
std::optional<std::string> side_value(const cxxopts::ParseResult& r, const std::string& side, const std::string& name)
{
  const std::string own = side + "-" + name;
  const bool has_own = !side.empty() && r.count(own) > 0;
  const bool has_plain = r.count(name) > 0;
  if (has_own && has_plain && r[own].as<std::string>() != r[name].as<std::string>()) {
    throw util::Error("--" + name + " and --" + own + " contradict each other: give one (--" + name +
                      " applies to both sides)");
  }
  if (has_own) return r[own].as<std::string>();
  if (has_plain) return r[name].as<std::string>();
  return std::nullopt;
}

// The settings of a side ("src", "dest", or "" for a command that has only the plain options).
registry::AccessOptions access_options_from(const cxxopts::ParseResult& r, const std::string& side)
{
  const std::string prefix = side.empty() ? "--" : "--" + side + "-";
  registry::AccessOptions o;
  if (const auto verify = side_value(r, side, "tls-verify")) {
    if (*verify != "true" && *verify != "false") {
      throw util::Error(prefix + "tls-verify: want true or false, not '" + util::printable(*verify) + "'");
    }
    o.tls_verify = *verify == "true" ? registry::TlsVerify::yes : registry::TlsVerify::no;
  }
  if (const auto dir = side_value(r, side, "cert-dir")) {
    o.cert_dir = *dir;
    if (!util::is_directory(o.cert_dir)) {
      throw util::Error(util::Location::of(o.cert_dir), prefix + "cert-dir: not a directory");
    }
  }
  if (const auto file = side_value(r, side, "authfile")) {
    o.auth_file = *file;
    if (!util::is_regular_file(o.auth_file)) {
      throw util::Error(util::Location::of(o.auth_file), prefix + "authfile: not a file");
    }
  }
  if (const auto creds = side_value(r, side, "creds")) {
    try {
      o.creds = registry::parse_creds_option(*creds);
    } catch (const util::Error& e) {
      throw util::Error(prefix + "creds: " + e.message());
    }
  }
  return o;
}

void apply_registry_options(const cxxopts::ParseResult& r)
{
  registry::ClientOptions o;
  o.pull = access_options_from(r, g_source_options ? "src" : "");
  o.push = access_options_from(r, g_push_options ? "dest" : "");
  if (r.count("retry-times")) {
    const std::string v = r["retry-times"].as<std::string>();
    const long n = v.empty() || v.size() > 2 || v.find_first_not_of("0123456789") != std::string::npos
                       ? -1
                       : std::stol(v);
    if (n < 0 || n > 19) throw util::Error("--retry-times: want 0 to 19, not '" + util::printable(v) + "'");
    o.attempts = static_cast<unsigned>(n) + 1;
  }
  registry::configure(o);
  registry::configure_cache(r.count("no-cache") ? registry::CacheMode::private_to_run : registry::CacheMode::shared);
}

void add_side_options(cxxopts::Options& options, const std::string& side, const std::string& what)
{
  options.add_options("registry (docker://)")
    (side + "-creds", "credentials for " + what + " (instead of --creds)", cxxopts::value<std::string>(), "USER[:PASS]")
    (side + "-tls-verify", "--tls-verify for " + what,
     cxxopts::value<std::string>()->implicit_value("true"), "true|false")
    (side + "-cert-dir", "--cert-dir for " + what, cxxopts::value<std::string>(), "DIR")
    (side + "-authfile", "--authfile for " + what, cxxopts::value<std::string>(), "FILE");
}

} // namespace

void add_registry_options(cxxopts::Options& options)
{
  g_registry_options = true;
  options.add_options("registry (docker://)")
    ("creds", "credentials for the registry (else the auth files: $REGISTRY_AUTH_FILE, "
              "${XDG_RUNTIME_DIR}/containers/auth.json, ~/.docker/config.json)", cxxopts::value<std::string>(),
     "USER[:PASS]")
    ("tls-verify", "verify the registry's TLS certificate (wins over registries.conf's insecure); false also allows plain HTTP",
     cxxopts::value<std::string>()->implicit_value("true"), "true|false")
    ("cert-dir", "CA certificates (*.crt) and a client certificate (*.cert, *.key) for the registry",
     cxxopts::value<std::string>(), "DIR")
    ("authfile", "the auth file read first (instead of $REGISTRY_AUTH_FILE)", cxxopts::value<std::string>(), "FILE")
    ("retry-times", "retries of a request after 429, 5xx or a dropped connection (default 4)",
     cxxopts::value<std::string>(), "N")
    ("no-cache", "keep no blob in the cache ($XDG_CACHE_HOME/reproimg): fetch into a directory of this run's own");
}

void add_source_options(cxxopts::Options& options)
{
  g_source_options = true;
  add_side_options(options, "src", "the registry images are read from (docker:// inputs, FROM)");
}

void add_push_options(cxxopts::Options& options)
{
  g_push_options = true;
  add_side_options(options, "dest", "the registry pushed to (-o docker://REF; copy's docker:// DESTINATION)");
  options.add_options("registry (docker://)")
    ("digestfile", "with -o docker://REF: write the pushed manifest digest to FILE", cxxopts::value<std::string>(), "FILE");
}

ImageDestination::ImageDestination(const cxxopts::ParseResult& r, const std::string& out, image::ImageFormat format)
    : m_path(out)
{
  if (r.count("digestfile")) {
    m_digestfile = r["digestfile"].as<std::string>();
    util::check_output_file(m_digestfile);
  }
  if (!registry::is_registry_spec(out)) {
    if (!m_digestfile.empty()) {
      throw util::Error("--digestfile: only with -o docker://REF (a push)");
    }
    return;
  }
  m_registry = registry::parse_reference(out);
  if (format != image::ImageFormat::oci) {
    throw util::Error("-o docker://: a registry takes an OCI image; drop --format");
  }
  m_temp = std::make_unique<util::TempDir>(util::temp_directory() + "/reproimg-push.");
  m_path = m_temp->path() + "/image";
  m_early = std::make_unique<image::EarlyUploads>(*m_registry);
}

image::StagedBlob ImageDestination::upload_hook() const
{
  return m_early ? m_early->hook() : image::StagedBlob();
}

ImageDestination::~ImageDestination() = default;

void ImageDestination::push(bool json_on_stdout) const
{
  if (!m_registry) {
    return;
  }
  const image::PushResult pushed = image::push_layout(m_path, *m_registry, m_early.get());
  if (!m_digestfile.empty()) {
    util::write_file_atomic(m_digestfile, pushed.digest);
  }
  std::fprintf(json_on_stdout ? stderr : stdout, "Pushed %s\n", pushed.reference.c_str());
  std::fflush(json_on_stdout ? stderr : stdout);
}

cxxopts::ParseResult parse_arguments(cxxopts::Options& options, int argc, char** argv)
{
  auto r = options.parse(argc, argv);
  if (g_registry_options) {
    apply_registry_options(r);
  }
  if (r.count("color")) {
    g_stderr_color = color_from(r, 2);
  }
  const std::string& program = options.program(); // "reproimg normalize"
  const std::string command = program.substr(program.find(' ') + 1);
  if (!r.unmatched().empty()) {
    throw util::Error(command + ": unexpected argument '" + util::printable(r.unmatched().front()) + "' (see " +
                      program + " --help)");
  }
  for (const auto& arg : r.arguments()) {
    if (arg.value().empty() && (arg.key() == "input" || arg.key() == "inputs" || arg.key() == "context" || arg.key() == "destination" ||
                                arg.key() == "a" || arg.key() == "b")) {
      throw util::Error(command + ": an empty argument where a file was expected (an unset variable?)");
    }
  }
  return r;
}

std::string message_prefix(const char* kind)
{
  const bool color = g_stderr_color ? *g_stderr_color : color_for("auto", 2);
  const std::string k = kind;
  if (!color) {
    return "reproimg: " + k + ": ";
  }
  return "reproimg: " + std::string(k == "error" ? "\033[1;31m" : "\033[1;33m") + k + "\033[0m: ";
}

Verbosity verbosity_from(const cxxopts::ParseResult& r)
{
  if (r.count("quiet")) {
    return Verbosity::quiet;
  }
  return r.count("verbose") ? Verbosity::verbose : Verbosity::normal;
}

util::ProgressMode progress_from(const cxxopts::ParseResult& r)
{
  if (r.count("no-progress") || r.count("quiet")) {
    return util::ProgressMode::off;
  }
  return r.count("progress") ? util::ProgressMode::always : util::ProgressMode::auto_tty;
}

OutputTarget::OutputTarget(const std::string& path, bool binary)
{
  if (path == "-") {
    if (binary && util::is_terminal(1)) {
      throw util::Error("refusing to write binary output to a terminal; use -o FILE or a pipe");
    }
    m_sink = std::make_unique<util::FdSink>(1, "<stdout>");
    return;
  }
  m_file = std::make_unique<util::AtomicFile>(path);
  m_sink = std::make_unique<util::FdSink>(m_file->fd(), path);
}

void OutputTarget::commit()
{
  m_sink->finish();
  if (m_file) {
    m_file->commit();
  }
}

normalize::Compression compression_from(const cxxopts::ParseResult& r, const std::string& fallback)
{
  const std::string name = r.count("compress") ? r["compress"].as<std::string>() : fallback;
  const auto c = normalize::parse_compression(name);
  if (!c) {
    throw util::Error("--compress must be none, gzip or zstd, not '" + util::printable(name) + "'");
  }
  return *c;
}

void add_threads_option(cxxopts::Options& options)
{
  options.add_options()
    ("threads", "compression threads (default: the cores available); the bytes written are the same for any N",
     cxxopts::value<unsigned>(), "N");
}

unsigned threads_from(const cxxopts::ParseResult& r)
{
  if (!r.count("threads")) {
    return util::available_cores();
  }
  const unsigned n = r["threads"].as<unsigned>();
  if (n < 1 || n > 1024) {
    throw util::Error("--threads must be between 1 and 1024, not " + std::to_string(n));
  }
  return n;
}

void print_warnings(const normalize::Report& report, Verbosity v)
{
  if (v == Verbosity::quiet) {
    return;
  }
  const auto& w = report.warnings();
  const size_t shown = v == Verbosity::verbose ? w.size() : std::min<size_t>(w.size(), 10);
  for (size_t i = 0; i < shown; ++i) {
    std::fprintf(stderr, "%s%s\n", message_prefix("warning").c_str(), w[i].c_str());
  }
  if (shown < w.size()) {
    std::fprintf(stderr, "%s... and %zu more (--verbose shows all)\n", message_prefix("warning").c_str(), w.size() - shown);
  }
}

int print_help(const cxxopts::Options& options, const char* examples)
{
  std::printf("%s\nExamples:\n%s", options.help().c_str(), examples);
  return util::exit_code(util::ExitCode::ok);
}

} // namespace reproimg::cli
