// Unit tests for the Dockerfile parser, Docker's variable substitution and the build plan.
#include "dockerfile/dockerfile.hpp"
#include "util/error.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace reproimg;
using namespace reproimg::image;
using namespace reproimg::dockerfile;

namespace {

BuildPlan plan(const std::string& text, std::map<std::string, std::string> build_args = {})
{
  PlanOptions options;
  options.build_args = std::move(build_args);
  return plan_build(parse_dockerfile(text, "Dockerfile"), options);
}

// The message of the util::Error that planning text throws ("" if none).
std::string plan_error(const std::string& text)
{
  try {
    plan(text);
  } catch (const util::Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle)
{
  return haystack.find(needle) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(dockerfile)

BOOST_AUTO_TEST_CASE(continuation_lines_join_and_comments_inside_them_are_dropped)
{
  const auto df = parse_dockerfile("FROM scratch\n"
                                   "# a comment\n"
                                   "COPY a \\\n"
                                   "  # not an instruction\n"
                                   "\n"
                                   "     b /dst/   \n"
                                   "cmd [\"x\"]\n",
                                   "Dockerfile");
  BOOST_REQUIRE_EQUAL(df.instructions.size(), 3u);
  BOOST_CHECK_EQUAL(df.instructions[1].keyword, "COPY");
  BOOST_CHECK_EQUAL(df.instructions[1].line, 3);
  BOOST_CHECK_EQUAL(df.instructions[1].args, "a      b /dst/");
  BOOST_CHECK_EQUAL(df.instructions[2].keyword, "CMD");
  BOOST_CHECK_EQUAL(df.instructions[2].line, 7);
}

BOOST_AUTO_TEST_CASE(escape_directive_changes_the_continuation_character)
{
  const auto df = parse_dockerfile("# syntax=docker/dockerfile:1\n"
                                   "# escape=`\n"
                                   "FROM scratch\n"
                                   "COPY a `\n"
                                   " C:\\dir\\\n",
                                   "Dockerfile");
  BOOST_CHECK_EQUAL(df.escape, '`');
  BOOST_REQUIRE_EQUAL(df.instructions.size(), 2u);
  BOOST_CHECK_EQUAL(df.instructions[1].args, "a  C:\\dir\\");
}

BOOST_AUTO_TEST_CASE(directives_after_an_instruction_are_comments)
{
  const auto df = parse_dockerfile("FROM scratch\n# escape=`\nCOPY a \\\n b /\n", "Dockerfile");
  BOOST_CHECK_EQUAL(df.escape, '\\');
  BOOST_REQUIRE_EQUAL(df.instructions.size(), 2u);
  BOOST_CHECK_EQUAL(df.instructions[1].args, "a  b /");
}

BOOST_AUTO_TEST_CASE(flags_are_split_from_the_arguments)
{
  const auto df = parse_dockerfile("COPY --chown=\"1:2\" --chmod=755 src dst\n", "Dockerfile");
  BOOST_REQUIRE_EQUAL(df.instructions.size(), 1u);
  const auto& ins = df.instructions[0];
  BOOST_REQUIRE_EQUAL(ins.flags.size(), 2u);
  BOOST_CHECK_EQUAL(ins.flags[0], "--chown=1:2");
  BOOST_CHECK_EQUAL(ins.flags[1], "--chmod=755");
  BOOST_CHECK_EQUAL(ins.args, "src dst");
}

BOOST_AUTO_TEST_CASE(substitution_forms)
{
  const Variables v = {{"A", "a"}, {"EMPTY", ""}, {"SP", "x y"}};
  BOOST_CHECK_EQUAL(expand_word("$A-${A}", v), "a-a");
  BOOST_CHECK_EQUAL(expand_word("${B:-def}", v), "def");
  BOOST_CHECK_EQUAL(expand_word("${EMPTY:-def}", v), "def");
  BOOST_CHECK_EQUAL(expand_word("${EMPTY-def}", v), "");
  BOOST_CHECK_EQUAL(expand_word("${B-def}", v), "def");
  BOOST_CHECK_EQUAL(expand_word("${A:+alt}", v), "alt");
  BOOST_CHECK_EQUAL(expand_word("${EMPTY:+alt}", v), "");
  BOOST_CHECK_EQUAL(expand_word("${EMPTY+alt}", v), "alt");
  BOOST_CHECK_EQUAL(expand_word("${B:-${A}x}", v), "ax");
  BOOST_CHECK_EQUAL(expand_word("$UNSET", v), "");
  BOOST_CHECK_EQUAL(expand_word("cost: $", v), "cost: $");
}

BOOST_AUTO_TEST_CASE(quotes_and_escapes_control_substitution)
{
  const Variables v = {{"A", "a"}};
  BOOST_CHECK_EQUAL(expand_word("'$A'", v), "$A");
  BOOST_CHECK_EQUAL(expand_word("\"$A b\"", v), "a b");
  BOOST_CHECK_EQUAL(expand_word("\\$A", v), "$A");
  BOOST_CHECK_EQUAL(expand_word("\"\\$A \\\" \\n\"", v), "$A \" \\n");
  BOOST_CHECK_EQUAL(expand_word("`$A", v, '`'), "$A");
}

BOOST_AUTO_TEST_CASE(substitution_errors_are_reported)
{
  const Variables v;
  BOOST_CHECK_THROW(expand_word("${A:?needs A}", v), util::Error);
  BOOST_CHECK_THROW(expand_word("${A", v), util::Error);
  BOOST_CHECK_THROW(expand_word("${}", v), util::Error);
  BOOST_CHECK_THROW(expand_word("${A%x}", v), util::Error);
  BOOST_CHECK_THROW(expand_word("'open", v), util::Error);
  try {
    expand_word("${A:?needs A}", v);
  } catch (const util::Error& e) {
    BOOST_CHECK(contains(e.what(), "A: needs A"));
  }
}

BOOST_AUTO_TEST_CASE(word_splitting_splits_unquoted_substitutions)
{
  const Variables v = {{"PORTS", "80 443"}};
  const auto words = expand_words("$PORTS \"8 9\" ''", v);
  BOOST_REQUIRE_EQUAL(words.size(), 4u);
  BOOST_CHECK_EQUAL(words[0], "80");
  BOOST_CHECK_EQUAL(words[1], "443");
  BOOST_CHECK_EQUAL(words[2], "8 9");
  BOOST_CHECK_EQUAL(words[3], "");
}

BOOST_AUTO_TEST_CASE(arg_defaults_build_args_and_env_precedence)
{
  const auto p = plan("ARG BASE=scratch\n"
                      "FROM $BASE\n"
                      "ARG V=1.0\n"
                      "ARG W\n"
                      "ARG X=${V}-x\n"
                      "ENV V=env\n"
                      "LABEL v=$V w=${W:-none} x=$X\n",
                      {{"W", "given"}});
  BOOST_REQUIRE_EQUAL(p.steps.size(), 5u);
  const auto& label = p.steps[4];
  BOOST_CHECK(label.kind == StepKind::label);
  BOOST_REQUIRE_EQUAL(label.pairs.size(), 3u);
  BOOST_CHECK_EQUAL(label.pairs[0].second, "env"); // ENV overrides ARG
  BOOST_CHECK_EQUAL(label.pairs[1].second, "given");
  BOOST_CHECK_EQUAL(label.pairs[2].second, "1.0-x");
  BOOST_CHECK_EQUAL(p.steps[0].history, "ARG V=1.0");
  BOOST_CHECK(p.warnings.empty());
}

BOOST_AUTO_TEST_CASE(global_args_reach_the_stage_only_when_declared_again)
{
  const auto p = plan("ARG G=global\nFROM scratch\nLABEL a=${G:-unset}\nARG G\nLABEL b=$G\n");
  BOOST_REQUIRE_EQUAL(p.steps.size(), 3u);
  BOOST_CHECK_EQUAL(p.steps[0].pairs[0].second, "unset");
  BOOST_CHECK_EQUAL(p.steps[2].pairs[0].second, "global");
}

BOOST_AUTO_TEST_CASE(unused_build_args_are_warned_about)
{
  const auto p = plan("FROM scratch\n", {{"NOPE", "1"}});
  BOOST_REQUIRE_EQUAL(p.warnings.size(), 1u);
  BOOST_CHECK(contains(p.warnings[0], "NOPE"));
}

BOOST_AUTO_TEST_CASE(env_values_see_the_variables_before_the_instruction)
{
  const auto p = plan("FROM scratch\nENV A=1\nENV A=2 B=$A\nENV C \"x y\" z\n");
  BOOST_REQUIRE_EQUAL(p.steps.size(), 3u);
  BOOST_CHECK_EQUAL(p.steps[1].pairs[1].second, "1");
  BOOST_CHECK_EQUAL(p.steps[2].pairs[0].first, "C");
  BOOST_CHECK_EQUAL(p.steps[2].pairs[0].second, "x y z");
  BOOST_CHECK_EQUAL(p.steps[1].history, "ENV A=2 B=1");
}

BOOST_AUTO_TEST_CASE(cmd_json_and_shell_forms)
{
  const auto p = plan("FROM scratch\nCMD [\"/bin/app\", \"-v\"]\nENTRYPOINT run $HOME\nSHELL [\"/bin/bash\", \"-c\"]\n"
                      "CMD echo hi\nCMD [not json\n");
  BOOST_REQUIRE_EQUAL(p.steps.size(), 5u);
  BOOST_CHECK_EQUAL(p.steps[0].words.size(), 2u);
  BOOST_CHECK_EQUAL(p.steps[0].history, "CMD [\"/bin/app\",\"-v\"]");
  BOOST_REQUIRE_EQUAL(p.steps[1].words.size(), 3u);
  BOOST_CHECK_EQUAL(p.steps[1].words[2], "run $HOME"); // not substituted
  BOOST_CHECK_EQUAL(p.steps[3].words[0], "/bin/bash");
  BOOST_CHECK_EQUAL(p.steps[4].words[2], "[not json");
}

BOOST_AUTO_TEST_CASE(copy_destinations_follow_workdir_and_trailing_slashes)
{
  const auto p = plan("FROM scratch\nWORKDIR /srv\nWORKDIR app/../data\nCOPY a b ./\nCOPY --chown=7 --chmod=0640 c sub\n"
                      "ADD [\"d e\", \"/x/\"]\n");
  BOOST_REQUIRE_EQUAL(p.steps.size(), 5u);
  BOOST_CHECK_EQUAL(p.steps[1].value, "/srv/data");
  const auto& c1 = p.steps[2];
  BOOST_CHECK_EQUAL(c1.value, "/srv/data");
  BOOST_CHECK(c1.dest_is_dir);
  BOOST_REQUIRE_EQUAL(c1.words.size(), 2u);
  const auto& c2 = p.steps[3];
  BOOST_CHECK_EQUAL(c2.value, "/srv/data/sub");
  BOOST_CHECK(!c2.dest_is_dir);
  BOOST_REQUIRE(c2.chown.has_value());
  BOOST_CHECK_EQUAL(c2.chown->first, 7);
  BOOST_CHECK_EQUAL(c2.chown->second, 7);
  BOOST_REQUIRE(c2.chmod.has_value());
  BOOST_CHECK_EQUAL(*c2.chmod, 0640u);
  const auto& add = p.steps[4];
  BOOST_CHECK(add.add);
  BOOST_REQUIRE_EQUAL(add.words.size(), 1u);
  BOOST_CHECK_EQUAL(add.words[0], "d e");
  BOOST_CHECK(add.dest_is_dir);
}

BOOST_AUTO_TEST_CASE(copy_sources_and_flags_are_substituted)
{
  const auto p = plan("FROM scratch\nARG UID=1000\nARG F=file.txt\nCOPY --chown=$UID:$UID $F /opt/${F}\n");
  BOOST_REQUIRE_EQUAL(p.steps.size(), 3u);
  const auto& c = p.steps[2];
  BOOST_CHECK_EQUAL(c.words[0], "file.txt");
  BOOST_CHECK_EQUAL(c.value, "/opt/file.txt");
  BOOST_CHECK_EQUAL(c.chown->first, 1000);
}

BOOST_AUTO_TEST_CASE(expose_expands_ranges_and_protocols)
{
  const auto p = plan("FROM scratch\nARG P=8080\nEXPOSE $P 53/UDP 9000-9002\n");
  const auto& e = p.steps.back();
  BOOST_REQUIRE_EQUAL(e.words.size(), 5u);
  BOOST_CHECK_EQUAL(e.words[0], "8080/tcp");
  BOOST_CHECK_EQUAL(e.words[1], "53/udp");
  BOOST_CHECK_EQUAL(e.words[4], "9002/tcp");
}

BOOST_AUTO_TEST_CASE(healthcheck_is_recorded)
{
  const auto p = plan("FROM scratch\nHEALTHCHECK --interval=30s --retries=3 CMD /bin/check --fast\n"
                      "HEALTHCHECK NONE\n");
  BOOST_REQUIRE_EQUAL(p.steps.size(), 2u);
  const Json& hc = p.steps[0].healthcheck;
  BOOST_CHECK_EQUAL(hc["Test"][0].get<std::string>(), "CMD-SHELL");
  BOOST_CHECK_EQUAL(hc["Test"][1].get<std::string>(), "/bin/check --fast");
  BOOST_CHECK_EQUAL(hc["Interval"].get<std::int64_t>(), 30000000000);
  BOOST_CHECK_EQUAL(hc["Retries"].get<int>(), 3);
  BOOST_CHECK_EQUAL(p.steps[1].healthcheck["Test"][0].get<std::string>(), "NONE");
}

BOOST_AUTO_TEST_CASE(go_durations)
{
  BOOST_CHECK_EQUAL(*parse_go_duration("1m30s"), 90000000000);
  BOOST_CHECK_EQUAL(*parse_go_duration("1.5h"), 5400000000000);
  BOOST_CHECK_EQUAL(*parse_go_duration("250ms"), 250000000);
  BOOST_CHECK(!parse_go_duration("30"));
  BOOST_CHECK(!parse_go_duration("1x"));
}

BOOST_AUTO_TEST_CASE(run_is_refused_with_the_line_and_what_to_do_instead)
{
  const std::string msg = plan_error("FROM scratch\n\nRUN apt-get install -y curl\n");
  BOOST_CHECK(contains(msg, "Dockerfile:3: RUN:"));
  BOOST_CHECK(contains(msg, "container runtime"));
  BOOST_CHECK(contains(msg, "reproimg import"));
}

BOOST_AUTO_TEST_CASE(what_the_builder_cannot_do_is_refused_clearly)
{
  BOOST_CHECK(contains(plan_error("FROM debian:12\n"), "reads no base images (only FROM scratch)"));
  BOOST_CHECK(contains(plan_error("FROM oci:base:1\n"), "Dockerfile:1: FROM:"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nADD https://example.com/x.tar.gz /\n"), "download the file first"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nADD git@github.com:a/b.git /src\n"), "network"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nCOPY --from=build /a /b\n"), "--from"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nCOPY --chown=app:app a /b\n"), "numeric UID"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nCOPY --chmod=u+x a /b\n"), "octal"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nCOPY a b /dest\n"), "must be a directory"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nCOPY --bogus a /b\n"), "unknown flag --bogus"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nCOPY <<EOF /b\nhi\nEOF\n"), "here-documents"));
  BOOST_CHECK(contains(plan_error("COPY a /b\n"), "before FROM"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nFROM scratch\n"), "multi-stage"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nFROBNICATE x\n"), "Dockerfile:2: FROBNICATE: unknown instruction"));
  BOOST_CHECK(contains(plan_error("# nothing\n"), "no FROM"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nONBUILD FROM x\n"), "isn't allowed as an ONBUILD trigger"));
  BOOST_CHECK(contains(plan_error("FROM scratch\nLABEL a=\"open\n"), "Dockerfile:2: LABEL:"));
}

BOOST_AUTO_TEST_CASE(target_platform_args_are_available)
{
  PlanOptions options;
  options.platform = parse_platform("linux/arm64/v8");
  const auto p = plan_build(parse_dockerfile("FROM scratch\nARG TARGETARCH\nARG TARGETPLATFORM\nLABEL a=$TARGETARCH "
                                             "p=$TARGETPLATFORM\n",
                                             "Dockerfile"),
                            options);
  BOOST_CHECK_EQUAL(p.steps.back().pairs[0].second, "arm64");
  BOOST_CHECK_EQUAL(p.steps.back().pairs[1].second, "linux/arm64/v8");
}

namespace {

// A loader that records what it was asked and returns a fixed config.
struct FakeBase {
  Json config;
  std::string asked;
  Platform platform;
  bool platform_given = false;
  int calls = 0;
  PlanOptions options()
  {
    PlanOptions o;
    o.load_base = [this](const std::string& image, const Platform& p, bool given) {
      ++calls;
      asked = image;
      platform = p;
      platform_given = given;
      return config;
    };
    return o;
  }
};

Json base_config()
{
  return Json::parse(R"({"os": "linux", "architecture": "arm", "variant": "v7",
    "config": {"Env": ["PATH=/opt/bin", "HOME=/home/app"], "WorkingDir": "/srv", "Shell": ["/bin/ash", "-c"],
               "OnBuild": ["LABEL from=$HOME", "COPY x y/"]}})");
}

} // namespace

BOOST_AUTO_TEST_CASE(from_an_image_starts_with_its_env_workdir_shell_and_platform)
{
  FakeBase base;
  base.config = base_config();
  PlanOptions options = base.options();
  options.build_args = {{"BASE", "oci:base:1"}};
  const auto p = plan_build(parse_dockerfile("ARG BASE\nARG P=linux/arm/v7\nFROM --platform=$P ${BASE} AS app\n"
                                             "ENV A=$HOME:$PATH\nCOPY f rel/\nWORKDIR w\nCMD run it\n",
                                             "Dockerfile"),
                            options);
  BOOST_CHECK_EQUAL(base.calls, 1);
  BOOST_CHECK_EQUAL(base.asked, "oci:base:1"); // ARG substituted in FROM
  BOOST_CHECK(base.platform_given);
  BOOST_CHECK_EQUAL(base.platform.architecture, "arm");
  BOOST_CHECK_EQUAL(base.platform.variant, "v7");
  BOOST_CHECK_EQUAL(p.base, "oci:base:1");
  BOOST_CHECK_EQUAL(p.from_line, 3);
  BOOST_CHECK_EQUAL(p.stage_name, "app");
  BOOST_CHECK_EQUAL(p.platform.architecture, "arm");
  BOOST_CHECK_EQUAL(p.platform.variant, "v7");
  // The triggers first (substituted with the image's Env, relative to its WorkingDir), then the file.
  BOOST_REQUIRE_EQUAL(p.steps.size(), 6u);
  BOOST_CHECK(p.steps[0].kind == StepKind::label);
  BOOST_CHECK_EQUAL(p.steps[0].pairs[0].second, "/home/app");
  BOOST_CHECK(p.steps[1].kind == StepKind::copy);
  BOOST_CHECK_EQUAL(p.steps[1].value, "/srv/y");
  BOOST_CHECK_EQUAL(p.steps[1].line, 3); // a trigger is reported at FROM
  BOOST_CHECK_EQUAL(p.steps[2].pairs[0].second, "/home/app:/opt/bin");
  BOOST_CHECK_EQUAL(p.steps[3].value, "/srv/rel");
  BOOST_CHECK_EQUAL(p.steps[4].value, "/srv/w");
  const std::vector<std::string> cmd = {"/bin/ash", "-c", "run it"};
  BOOST_CHECK(p.steps[5].words == cmd); // the image's SHELL wraps a shell-form CMD
}

BOOST_AUTO_TEST_CASE(from_an_image_without_platform_flag_asks_for_the_target)
{
  FakeBase base;
  base.config = Json::parse(R"({"os": "linux", "architecture": "amd64"})");
  PlanOptions options = base.options();
  options.platform = parse_platform("linux/s390x");
  const auto p = plan_build(parse_dockerfile("FROM oci:x\nLABEL a=b\n", "Dockerfile"), options);
  BOOST_CHECK(!base.platform_given);
  BOOST_CHECK_EQUAL(base.platform.architecture, "s390x"); // picks from an index
  BOOST_CHECK_EQUAL(p.platform.architecture, "amd64");    // the image is what it is
  BOOST_CHECK_EQUAL(p.base_config.dump(), base.config.dump());
}

BOOST_AUTO_TEST_CASE(from_an_image_errors_name_the_line_and_the_trigger)
{
  FakeBase base;
  base.config = base_config();
  base.config["config"]["OnBuild"] = Json::array({"RUN make"});
  std::string msg;
  try {
    plan_build(parse_dockerfile("# c\nFROM oci:x\n", "Dockerfile"), base.options());
  } catch (const util::Error& e) {
    msg = e.what();
  }
  BOOST_CHECK(contains(msg, "Dockerfile:2: the base image's ONBUILD trigger 'RUN make': RUN:"));

  base.config["config"]["OnBuild"] = Json::array({"FROM other"});
  msg.clear();
  try {
    plan_build(parse_dockerfile("FROM oci:x\n", "Dockerfile"), base.options());
  } catch (const util::Error& e) {
    msg = e.what();
  }
  BOOST_CHECK(contains(msg, "not allowed as a trigger"));

  base.config["config"] = Json::parse(R"({"Env": [1]})");
  msg.clear();
  try {
    plan_build(parse_dockerfile("FROM oci:x\n", "Dockerfile"), base.options());
  } catch (const util::Error& e) {
    msg = e.what();
  }
  BOOST_CHECK(contains(msg, "Dockerfile:1: FROM:"));
  BOOST_CHECK(contains(msg, "not a string"));

  PlanOptions failing;
  failing.load_base = [](const std::string& image, const Platform&, bool) -> Json {
    throw util::Error("cannot read the base image '" + image + "': missing");
  };
  msg.clear();
  try {
    plan_build(parse_dockerfile("FROM oci:gone\n", "Dockerfile"), failing);
  } catch (const util::Error& e) {
    msg = e.what();
  }
  BOOST_CHECK_EQUAL(msg, "Dockerfile:1: FROM: cannot read the base image 'oci:gone': missing");
}

BOOST_AUTO_TEST_SUITE_END()
