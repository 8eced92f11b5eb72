// rebuild's parts: the variations (names, what each changes, skipped with a reason), the plan of
// runs, attribution of differences to variations, path replacement, the workspace copy (cp -a
// alike, the original untouched, the scratch removed) and running a build (explicit environment,
// umask, exit status, output tail).
#include "tests/support.hpp"
#include "util/error.hpp"
#include "verify/rebuild.hpp"
#include "verify/rebuild_attribution.hpp"
#include "verify/rebuild_process.hpp"
#include "verify/rebuild_variations.hpp"
#include "verify/rebuild_workspace.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace reproimg;
using namespace reproimg::verify;

namespace {

std::string read_text(const std::string& path)
{
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text)
{
  std::ofstream(path) << text;
}

diff::Difference record(diff::Cause cause, const std::string& path)
{
  diff::Difference d;
  d.cause = cause;
  d.path = path;
  d.layer = 0;
  d.add("sha256", "a", "b");
  return d;
}

RunComparison comparison(const std::string& run, std::vector<Variation> varied, std::vector<diff::Difference> ds)
{
  RunComparison c;
  c.run = run;
  c.varied = std::move(varied);
  c.result.differences = std::move(ds);
  return c;
}

std::vector<std::string> variations_of(const diff::DiffResult& r, const std::string& path)
{
  for (const auto& d : r.differences) {
    if (d.path == path) return d.variations;
  }
  return {"(missing)"};
}

} // namespace

BOOST_AUTO_TEST_SUITE(rebuild)

BOOST_AUTO_TEST_CASE(variation_names_round_trip)
{
  BOOST_TEST(all_variations().size() == 10u);
  for (const Variation v : all_variations()) BOOST_TEST((parse_variation(variation_name(v)) == v));
  BOOST_TEST(!parse_variation("none"));
  BOOST_TEST(variation_list().rfind("build-path, time, timezone, locale", 0) == 0);
}

BOOST_AUTO_TEST_CASE(a_variation_the_host_cannot_apply_is_skipped_with_its_reason)
{
  Host host; // nothing: no libfaketime, no sorting locale, one CPU, disorderfs refused
  host.file_order_problem = "no usable /dev/fuse (FUSE)";
  const std::set<Variation> all(all_variations().begin(), all_variations().end());
  for (const auto& s : variation_statuses(all, host)) {
    const bool needs_host = s.variation == Variation::time || s.variation == Variation::locale ||
                            s.variation == Variation::cpus || s.variation == Variation::file_order;
    BOOST_TEST((s.state == (needs_host ? VariationState::skipped : VariationState::varied)),
               variation_name(s.variation));
    BOOST_TEST(s.reason.empty() == !needs_host);
  }
  const auto some = variation_statuses({Variation::umask}, host);
  BOOST_TEST((some[0].state == VariationState::not_requested)); // build-path
  BOOST_TEST((some[4].state == VariationState::varied));        // umask
}

BOOST_AUTO_TEST_CASE(each_variation_changes_its_own_condition_only)
{
  Host host;
  host.faketime_library = "/lib/libfaketime.so.1";
  host.sorting_locale = "en_US.UTF-8";
  host.single_cpu = 1;
  const std::map<std::string, std::string> base = {
      {"HOME", "/root"}, {"USER", "me"}, {"LC_COLLATE", "de_DE.UTF-8"}, {"PATH", "/bin"}, {"SOURCE_DATE_EPOCH", "5"}};
  const RunConditions control = run_conditions({}, host, base, 1700000000);
  BOOST_TEST(control.env.at("SOURCE_DATE_EPOCH") == "1700000000");
  BOOST_TEST(control.env.at("LC_ALL") == "C.UTF-8");
  BOOST_TEST(control.env.count("LC_COLLATE") == 0u);
  BOOST_TEST(control.env.at("TZ") == "UTC0");
  BOOST_TEST(control.env.at("HOME") == "/root");
  for (const Variation v : all_variations()) {
    const RunConditions c = run_conditions({v}, host, base, 1700000000);
    std::size_t changed = 0;
    for (const auto& [k, value] : c.env) changed += control.env.count(k) == 0 || control.env.at(k) != value;
    changed += control.env.size() > c.env.size();
    changed += c.umask != control.umask;
    changed += c.cpu != control.cpu;
    changed += c.varied_build_path != control.varied_build_path;
    changed += c.shuffled_dirents != control.shuffled_dirents;
    BOOST_TEST(changed >= 1u, variation_name(v));
    BOOST_TEST(c.env.at("SOURCE_DATE_EPOCH") == "1700000000");
  }
  const RunConditions time = run_conditions({Variation::time}, host, base, 0);
  BOOST_TEST(time.env.at("LD_PRELOAD") == "/lib/libfaketime.so.1");
  BOOST_TEST(time.env.at("FAKETIME") == "+400d");
  BOOST_TEST(run_conditions({Variation::umask}, host, base, 0).umask == 0002u);
  BOOST_TEST(run_conditions({Variation::locale}, host, base, 0).env.at("LANG") == "en_US.UTF-8");
  BOOST_TEST(*run_conditions({Variation::cpus}, host, base, 0).cpu == 1);
}

BOOST_AUTO_TEST_CASE(the_plan_has_control_and_varied_and_with_bisect_one_run_per_variation)
{
  const auto two = plan_runs({Variation::time, Variation::umask}, BisectMode::off);
  BOOST_TEST(two.size() == 2u);
  BOOST_TEST(two[0].name == "control");
  BOOST_TEST(two[1].varied.size() == 2u);
  const auto bisect = plan_runs({Variation::time, Variation::umask}, BisectMode::on);
  BOOST_TEST(bisect.size() == 5u);
  BOOST_TEST(bisect[2].name == "none");
  BOOST_TEST(bisect[2].varied.empty());
  BOOST_TEST(bisect[4].name == "umask");
}

BOOST_AUTO_TEST_CASE(bisect_attributes_each_difference_to_the_runs_that_show_it)
{
  using diff::Cause;
  const std::vector<Variation> both = {Variation::time, Variation::locale};
  std::vector<RunComparison> cs;
  cs.push_back(comparison(
      "varied", both,
      {record(Cause::content, "date"), record(Cause::content, "random"), record(Cause::content, "together")}));
  cs.push_back(comparison("none", {}, {record(Cause::content, "random")}));
  cs.push_back(
      comparison("time", {Variation::time}, {record(Cause::content, "date"), record(Cause::content, "random")}));
  cs.push_back(
      comparison("locale", {Variation::locale}, {record(Cause::content, "random"), record(Cause::mode, "only-alone")}));
  const diff::DiffResult r = attribute_differences(cs, BisectMode::on);
  BOOST_TEST(r.differences.size() == 4u);
  BOOST_TEST(variations_of(r, "date") == std::vector<std::string>{"time"});
  BOOST_TEST(variations_of(r, "random") == std::vector<std::string>{"none"});
  BOOST_TEST(variations_of(r, "together") == (std::vector<std::string>{"time", "locale"}));
  BOOST_TEST(variations_of(r, "only-alone") == std::vector<std::string>{"locale"});
  BOOST_TEST(r.summary.at(Cause::content).count == 3u);
  BOOST_TEST(!r.differences[0].hint.empty());
  const auto counts = attribution_counts(r);
  BOOST_TEST(counts.back().first == "none");

  const diff::DiffResult plain = attribute_differences({cs[0]}, BisectMode::off);
  BOOST_TEST(variations_of(plain, "date") == (std::vector<std::string>{"time", "locale"}));
  BOOST_TEST(
      variations_of(attribute_differences({comparison("varied", {}, {record(Cause::content, "x")})}, BisectMode::off),
                    "x") == std::vector<std::string>{"none"});
}

BOOST_AUTO_TEST_CASE(temporary_paths_are_replaced_everywhere_in_a_result)
{
  diff::DiffResult r;
  r.a = "/tmp/r.1/runs/0/tree/out";
  r.notes = {"read /tmp/r.1/runs/1/tree/out"};
  diff::Difference d = record(diff::Cause::content, "info");
  d.attributes.clear();
  d.add("value", diff::Json::array({"/tmp/r.1/build/src"}), "/tmp/r.1/build-path-varied/source");
  d.detail = {"-built at /tmp/r.1/build/src"};
  r.differences.push_back(d);
  replace_paths(r,
                {{"/tmp/r.1/runs/0/tree", "<control>"}, {"/tmp/r.1/runs/1/tree", "<varied>"}, {"/tmp/r.1", "<tmp>"}});
  BOOST_TEST(r.a == "<control>/out");
  BOOST_TEST(r.notes[0] == "read <varied>/out");
  BOOST_TEST(r.differences[0].attributes[0].second.first[0] == "<tmp>/build/src");
  BOOST_TEST(r.differences[0].attributes[0].second.second == "<tmp>/build-path-varied/source");
  BOOST_TEST(r.differences[0].detail[0] == "-built at <tmp>/build/src");
}

BOOST_AUTO_TEST_CASE(copy_tree_copies_as_cp_a_and_leaves_the_original)
{
  test::TempDir dir;
  const std::string src = dir.file("src");
  ::mkdir(src.c_str(), 0750);
  ::mkdir((src + "/sub").c_str(), 0700);
  write_text(src + "/sub/file", "content\n");
  ::chmod((src + "/sub/file").c_str(), 04751);
  BOOST_REQUIRE(::link((src + "/sub/file").c_str(), (src + "/hard").c_str()) == 0);
  BOOST_REQUIRE(::symlink("sub/file", (src + "/link").c_str()) == 0);
  BOOST_REQUIRE(::mkfifo((src + "/fifo").c_str(), 0600) == 0);
  const struct timespec times[2] = {{1000, 0}, {123456789, 5}};
  ::utimensat(AT_FDCWD, (src + "/sub/file").c_str(), times, 0);
  ::utimensat(AT_FDCWD, (src + "/sub").c_str(), times, 0);
  for (const CopyMethod m : {CopyMethod::copy, CopyMethod::reflink}) {
    const std::string dst = dir.file(std::string("dst-") + copy_method_name(m));
    copy_tree(src, dst, m);
    struct stat a {
    }, b{}, h{};
    BOOST_REQUIRE(::lstat((dst + "/sub/file").c_str(), &a) == 0);
    BOOST_TEST((a.st_mode & 07777) == 04751u);
    BOOST_TEST(a.st_mtim.tv_sec == 123456789);
    BOOST_TEST(a.st_mtim.tv_nsec == 5);
    BOOST_TEST(read_text(dst + "/sub/file") == "content\n");
    BOOST_REQUIRE(::lstat((dst + "/hard").c_str(), &h) == 0);
    BOOST_TEST(h.st_ino == a.st_ino);
    BOOST_REQUIRE(::lstat((dst + "/sub").c_str(), &b) == 0);
    BOOST_TEST((b.st_mode & 07777) == 0700u);
    BOOST_TEST(b.st_mtim.tv_sec == 123456789);
    BOOST_REQUIRE(::lstat((dst + "/link").c_str(), &b) == 0);
    BOOST_TEST(S_ISLNK(b.st_mode));
    BOOST_REQUIRE(::lstat((dst + "/fifo").c_str(), &b) == 0);
    BOOST_TEST(S_ISFIFO(b.st_mode));
    write_text(dst + "/sub/file", "changed\n");
    BOOST_TEST(read_text(src + "/sub/file") == "content\n");
  }
  BOOST_CHECK_THROW(copy_tree(src, dir.file("dst-copy"), CopyMethod::copy), util::Error);
}

BOOST_AUTO_TEST_CASE(a_scratch_directory_is_removed_with_its_copies)
{
  test::TempDir dir;
  ::mkdir(dir.file("src").c_str(), 0755);
  write_text(dir.file("src/f"), "x");
  std::string root;
  {
    Scratch scratch(dir.path());
    root = scratch.root();
    const std::string run = scratch.make_dir("runs/0");
    const std::string tree = scratch.make_copy(dir.file("src"), run, CopyMethod::copy);
    BOOST_TEST(read_text(tree + "/f") == "x");
    BOOST_TEST((scratch.choose(CopyRequest::copy, dir.file("src")) == CopyMethod::copy));
  }
  struct stat st {};
  BOOST_TEST(::lstat(root.c_str(), &st) != 0);
}

BOOST_AUTO_TEST_CASE(a_build_gets_exactly_its_environment_and_umask)
{
  test::TempDir dir;
  Launch launch;
  launch.argv = {"sh", "-c", "env | sort; umask; pwd; echo err >&2; exit 7"};
  launch.env = {{"PATH", "/usr/bin:/bin"}, {"ONLY", "this"}};
  launch.cwd = dir.path();
  launch.umask = 0027;
  launch.output = dir.file("out.log");
  const ProcessExit exit = run_process(launch);
  BOOST_TEST((exit.kind == ExitKind::exited));
  BOOST_TEST(exit.code == 7);
  BOOST_TEST(exit.describe() == "exit status 7");
  const std::string out = read_text(dir.file("out.log"));
  BOOST_TEST(out.find("ONLY=this\n") != std::string::npos);
  BOOST_TEST(out.find("HOME=") == std::string::npos);
  BOOST_TEST(out.find("0027\n") != std::string::npos);
  BOOST_TEST(out.find(dir.path() + "\n") != std::string::npos);
  BOOST_TEST(output_tail(dir.file("out.log"), 2) == dir.path() + "\nerr");

  launch.argv = {"no-such-command-for-rebuild"};
  const ProcessExit missing = run_process(launch);
  BOOST_TEST((missing.kind == ExitKind::not_started));
  BOOST_TEST(missing.describe().find("no-such-command-for-rebuild") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
