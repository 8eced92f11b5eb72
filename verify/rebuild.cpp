// Running a rebuild: the plan of runs, the runs side by side in their copies, the comparison of
// every run's artifact with the control's, and the attribution (see rebuild.hpp).
#include "verify/rebuild.hpp"

#include "diff/diff.hpp"
#include "normalize/policy.hpp"
#include "util/error.hpp"
#include "verify/rebuild_process.hpp"
#include "verify/rebuild_registry.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <tuple>

namespace reproimg::verify {

namespace {

const char* const k_transports[] = {"oci:", "oci-archive:", "docker-archive:", "dir:", "tar:"};

// The artifact split into a transport prefix ("" when none) and a path relative to the copy.
struct ArtifactPath {
  std::string prefix;
  std::string relative;
};

ArtifactPath parse_artifact(const std::string& spec)
{
  ArtifactPath a;
  a.relative = spec;
  for (const char* t : k_transports) {
    if (spec.rfind(t, 0) == 0) {
      a.prefix = t;
      a.relative = spec.substr(std::string(t).size());
    }
  }
  while (a.relative.rfind("./", 0) == 0) a.relative = a.relative.substr(2);
  const bool dotdot = a.relative == ".." || a.relative.rfind("../", 0) == 0 ||
                      a.relative.find("/../") != std::string::npos ||
                      (a.relative.size() >= 3 && a.relative.compare(a.relative.size() - 3, 3, "/..") == 0);
  if (a.relative.empty() || a.relative[0] == '/' || dotdot) {
    throw util::Error("rebuild: --artifact must be a path inside the working directory, relative to it, not '" +
                      util::printable(spec) + "'");
  }
  return a;
}

std::string real_path(const std::string& path, const char* what)
{
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) util::throw_errno(std::string("cannot resolve ") + what, path);
  return buf;
}

std::pair<std::int64_t, EpochSource> choose_epoch(const RebuildOptions& options, const std::string& source)
{
  if (options.epoch) return {*options.epoch, EpochSource::option};
  if (const auto env = normalize::source_date_epoch_from_env()) return {*env, EpochSource::environment};
  struct stat st {};
  if (::lstat((source + "/.git").c_str(), &st) == 0) {
    const Captured c = capture_command({"git", "-C", source, "log", "-1", "--format=%ct"});
    std::string text = c.output;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (c.exit.ok() && !text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() < 19) {
      return {std::stoll(text), EpochSource::git};
    }
  }
  return {0, EpochSource::fallback};
}

// What the runs share while they go: where they run, the paths that one run at a time may use
// (without private mounts), the first failure.
struct RunContext {
  const RebuildOptions& options;
  Scratch& scratch;
  const Host& host;
  std::map<std::string, std::string> base_env;
  std::int64_t epoch = 0;
  std::string source;
  CopyMethod method = CopyMethod::copy;
  bool private_mounts = false;
  std::string control_path; // the build path of every run but those that vary it
  std::string varied_path;
  std::map<std::string, std::mutex> path_locks;
  std::unique_ptr<RegistryArtifact> registry; // a docker:// artifact: the runs go one at a time
};

struct RunOutcome {
  std::string dir;    // the run's directory: its copy, its output
  std::string tree;   // the copy, where a local artifact is
  std::string pushed; // a docker:// artifact: docker://REGISTRY/REPOSITORY@DIGEST of the run's push
  ProcessExit exit;
  std::string tail;
};

ProcessExit launch_in_place(RunContext& ctx, Launch& launch, const std::string& tree, const RunConditions& c)
{
  const std::string& path = launch.cwd;
  if (ctx.private_mounts) {
    std::string view = tree;
    if (c.shuffled_dirents) {
      view = tree + "-shuffled";
      if (::mkdir(view.c_str(), 0700) != 0) util::throw_errno("cannot create", view);
      ctx.scratch.mount_disorderfs(tree, view);
    }
    launch.bind = PrivateBind{view, path};
    ProcessExit exit;
    try {
      exit = run_process(launch);
    } catch (...) {
      if (c.shuffled_dirents) ctx.scratch.unmount(view);
      throw;
    }
    if (c.shuffled_dirents) ctx.scratch.unmount(view);
    return exit;
  }
  // One run at a time at a path: the copy moved there (or seen there through disorderfs) and back.
  std::lock_guard lock(ctx.path_locks.at(path));
  if (c.shuffled_dirents) {
    ::rmdir(path.c_str());
    if (::mkdir(path.c_str(), 0700) != 0) util::throw_errno("cannot create", path);
    ctx.scratch.mount_disorderfs(tree, path);
  } else if (::rename(tree.c_str(), path.c_str()) != 0) {
    util::throw_errno("cannot move the copy to the build path", path);
  }
  ProcessExit exit;
  std::exception_ptr error;
  try {
    exit = run_process(launch);
  } catch (...) {
    error = std::current_exception();
  }
  if (c.shuffled_dirents)
    ctx.scratch.unmount(path);
  else if (::rename(path.c_str(), tree.c_str()) != 0)
    util::throw_errno("cannot move the copy back", tree);
  if (error) std::rethrow_exception(error);
  return exit;
}

// The run's copy, made before any build starts (see run_all).
void prepare_run(RunContext& ctx, RunOutcome& out, std::size_t index)
{
  out.dir = ctx.scratch.make_dir("runs/" + std::to_string(index));
  out.tree = ctx.scratch.make_copy(ctx.source, out.dir, ctx.method);
}

void run_one(RunContext& ctx, const RunRecord& run, RunOutcome& out)
{
  const std::set<Variation> varied(run.varied.begin(), run.varied.end());
  const RunConditions c = run_conditions(varied, ctx.host, ctx.base_env, ctx.epoch);
  Launch launch;
  launch.argv = ctx.options.command;
  launch.env = c.env;
  launch.cwd = c.varied_build_path ? ctx.varied_path : ctx.control_path;
  launch.umask = c.umask;
  launch.cpu = c.cpu;
  launch.output = out.dir + "/output.log";
  if (ctx.registry) ctx.registry->before_run();
  out.exit = launch_in_place(ctx, launch, out.tree, c);
  if (!out.exit.ok()) {
    out.tail = output_tail(launch.output, ctx.options.tail_lines);
    if (ctx.registry) ctx.registry->restore();
  } else if (ctx.registry) {
    // Now, before the next run moves the tag.
    out.pushed = ctx.registry->after_run(run.name);
  }
}

// Calls step(i) for every i < n, at most jobs at a time; the first error is rethrown after all.
void for_each_run(std::size_t n, unsigned jobs_wanted, const std::function<void(std::size_t)>& step)
{
  std::vector<std::exception_ptr> errors(n);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < n; i = next++) {
      try {
        step(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  const unsigned jobs = std::max(1u, std::min<unsigned>(jobs_wanted, static_cast<unsigned>(n)));
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// Every run, at most jobs at a time (one at a time for a docker:// artifact: the runs push to one
// tag); outcomes in run order. Every copy is made, and closed, before the first build starts: a
// copy is open for writing only while nothing forks, so no build's child inherits a descriptor of
// another run's script, whose exec would then fail with ETXTBSY.
std::vector<RunOutcome> run_all(RunContext& ctx, const std::vector<RunRecord>& runs)
{
  std::vector<RunOutcome> outcomes(runs.size());
  for_each_run(runs.size(), ctx.options.jobs, [&](std::size_t i) { prepare_run(ctx, outcomes[i], i); });
  const unsigned jobs = ctx.registry ? 1 : ctx.options.jobs;
  for_each_run(runs.size(), jobs, [&](std::size_t i) { run_one(ctx, runs[i], outcomes[i]); });
  return outcomes;
}

std::string artifact_spec(const ArtifactPath& a, const RunOutcome& outcome)
{
  return outcome.pushed.empty() ? a.prefix + outcome.tree + "/" + a.relative : outcome.pushed;
}

void check_artifact(const ArtifactPath& a, const RunOutcome& outcome, const std::string& run)
{
  if (!outcome.pushed.empty()) return;
  struct stat st {};
  if (::stat((outcome.tree + "/" + a.relative).c_str(), &st) != 0) {
    throw util::Error(util::Location::of(a.prefix + a.relative),
                      "rebuild: the build left no artifact there in run '" + run + "' (it exited 0)");
  }
}

// Compares every run's artifact with the control's, and merges the comparisons.
void compare_runs(RebuildResult& result, const RebuildOptions& options, const ArtifactPath& artifact,
                  const std::vector<RunOutcome>& outcomes)
{
  diff::DiffOptions opts;
  opts.compare = options.compare;
  opts.ignore = options.ignore;
  std::vector<RunComparison> comparisons;
  result.identical = true;
  for (std::size_t i = 1; i < outcomes.size(); ++i) {
    RunComparison c;
    c.run = result.runs[i].name;
    c.varied = result.runs[i].varied;
    c.result = diff::run_diff(artifact_spec(artifact, outcomes[0]), artifact_spec(artifact, outcomes[i]), opts);
    if (c.result.verdict != diff::Verdict::identical) result.identical = false;
    comparisons.push_back(std::move(c));
  }
  result.diff = attribute_differences(std::move(comparisons), options.bisect);
  result.diff.a = "control:" + options.artifact;
  result.diff.b = "varied:" + options.artifact;
}

} // namespace

const char* epoch_source_name(EpochSource s)
{
  switch (s) {
  case EpochSource::option: return "option";
  case EpochSource::environment: return "SOURCE_DATE_EPOCH";
  case EpochSource::git: return "git";
  case EpochSource::fallback: return "default";
  }
  return "default";
}

std::vector<RunRecord> plan_runs(const std::vector<Variation>& varied, BisectMode bisect)
{
  std::vector<RunRecord> runs = {{"control", {}}, {"varied", varied}};
  if (bisect == BisectMode::on) {
    runs.push_back({k_no_variation, {}});
    for (const Variation v : varied) runs.push_back({variation_name(v), {v}});
  }
  return runs;
}

RebuildResult rebuild(const RebuildOptions& options)
{
  if (options.command.empty()) throw util::Error("rebuild: want a build command after --");
  std::unique_ptr<RegistryArtifact> registry;
  if (is_registry_artifact(options.artifact)) registry = std::make_unique<RegistryArtifact>(options.artifact);
  const ArtifactPath artifact = registry ? ArtifactPath{} : parse_artifact(options.artifact);
  RebuildResult result;
  result.bisect = options.bisect;
  result.artifact = options.artifact;
  const std::string source = real_path(options.source, "the working directory");
  std::tie(result.epoch, result.epoch_source) = choose_epoch(options, source);
  const std::string temp_parent = real_path(options.temp_parent, "the temporary directory");
  if (temp_parent == source || temp_parent.rfind(source + "/", 0) == 0) {
    throw util::Error(util::Location::of(temp_parent),
                      "rebuild: the temporary directory is inside the working directory that is copied; "
                      "give --tmpdir a directory outside it");
  }
  Host host = probe_host();
  Scratch scratch(temp_parent);
  if (options.requested.count(Variation::file_order)) host.file_order_problem = scratch.disorderfs_problem();
  result.variations = variation_statuses(options.requested, host);
  std::vector<Variation> varied;
  for (const auto& s : result.variations) {
    if (s.state == VariationState::varied) varied.push_back(s.variation);
  }
  result.runs = plan_runs(varied, options.bisect);
  RunContext ctx{options, scratch, host, current_environment(), result.epoch, source, {}, {}, {}, {}, {}, {}};
  ctx.registry = std::move(registry);
  result.order = ctx.registry ? RunOrder::one_at_a_time : RunOrder::side_by_side;
  ctx.method = result.copy_method = scratch.choose(options.copy, source);
  ctx.private_mounts = result.private_mounts = private_mounts_available();
  // With mount namespaces every build but the build-path ones sees its copy where the original is.
  ctx.control_path = ctx.private_mounts ? source : scratch.make_dir("build/src");
  ctx.varied_path = scratch.make_dir("build-path-varied/source");
  ctx.path_locks[ctx.control_path];
  ctx.path_locks[ctx.varied_path];
  const std::vector<RunOutcome> outcomes = run_all(ctx, result.runs);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (!outcomes[i].exit.ok()) {
      result.failure = BuildFailure{result.runs[i].name, outcomes[i].exit.describe(), outcomes[i].tail};
      return result;
    }
  }
  for (std::size_t i = 0; i < outcomes.size(); ++i) check_artifact(artifact, outcomes[i], result.runs[i].name);
  compare_runs(result, options, artifact, outcomes);
  std::vector<std::pair<std::string, std::string>> replacements;
  for (std::size_t i = 0; i < outcomes.size(); ++i)
    replacements.emplace_back(outcomes[i].tree, "<" + result.runs[i].name + ">");
  replacements.emplace_back(scratch.root(), "<tmp>");
  replace_paths(result.diff, replacements);
  return result;
}

} // namespace reproimg::verify
