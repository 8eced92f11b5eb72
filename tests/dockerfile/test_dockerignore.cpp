// Unit tests for .dockerignore matching (Docker's pattern rules).
#include "dockerfile/dockerignore.hpp"
#include "util/error.hpp"

#include <boost/test/unit_test.hpp>

using namespace reproimg;
using namespace reproimg::dockerfile;
using namespace reproimg::dockerfile;

BOOST_AUTO_TEST_SUITE(dockerignore)

BOOST_AUTO_TEST_CASE(patterns_match_paths_and_everything_below_a_matched_directory)
{
  const auto ig = DockerIgnore::parse("# comment\n\n/build/\n*.log\n");
  BOOST_CHECK(ig.excluded("build"));
  BOOST_CHECK(ig.excluded("build/out/x.o"));
  BOOST_CHECK(ig.excluded("debug.log"));
  BOOST_CHECK(!ig.excluded("sub/debug.log")); // '*' does not cross '/'
  BOOST_CHECK(!ig.excluded("src/main.c"));
  BOOST_CHECK(!ig.excluded("# comment"));
}

BOOST_AUTO_TEST_CASE(double_star_matches_any_number_of_directories)
{
  const auto ig = DockerIgnore::parse("**/*.tmp\ncache/**\n");
  BOOST_CHECK(ig.excluded("a.tmp"));
  BOOST_CHECK(ig.excluded("x/y/z.tmp"));
  BOOST_CHECK(ig.excluded("cache/a/b"));
  BOOST_CHECK(!ig.excluded("cache")); // "cache/**" matches what is inside only
}

BOOST_AUTO_TEST_CASE(exceptions_bring_files_back_and_the_last_match_wins)
{
  const auto ig = DockerIgnore::parse("*.md\n!README.md\nREADME*\n!keep/**\nkeep/secret\n");
  BOOST_CHECK(ig.excluded("CHANGES.md"));
  BOOST_CHECK(ig.excluded("README.md")); // excluded again by README*
  BOOST_CHECK(ig.has_exceptions());
  const auto ig2 = DockerIgnore::parse("docs\n!docs/keep.txt\n");
  BOOST_CHECK(ig2.excluded("docs"));
  BOOST_CHECK(ig2.excluded("docs/other.txt"));
  BOOST_CHECK(!ig2.excluded("docs/keep.txt"));
}

BOOST_AUTO_TEST_CASE(question_mark_classes_and_escapes)
{
  const auto ig = DockerIgnore::parse("file?.txt\n[ab].c\n\\*.lit\na.b\n");
  BOOST_CHECK(ig.excluded("file1.txt"));
  BOOST_CHECK(!ig.excluded("file12.txt"));
  BOOST_CHECK(ig.excluded("a.c"));
  BOOST_CHECK(!ig.excluded("c.c"));
  BOOST_CHECK(ig.excluded("*.lit"));
  BOOST_CHECK(!ig.excluded("x.lit"));
  BOOST_CHECK(!ig.excluded("aXb")); // '.' is literal
}

BOOST_AUTO_TEST_CASE(patterns_are_cleaned)
{
  const auto ig = DockerIgnore::parse("./a/../b//c/\n");
  BOOST_CHECK(ig.excluded("b/c"));
  BOOST_CHECK_EQUAL(clean_path("./a/../b//c/"), "b/c");
  BOOST_CHECK_EQUAL(clean_path("/x/./y/.."), "/x");
  BOOST_CHECK_EQUAL(clean_path(""), ".");
}

BOOST_AUTO_TEST_CASE(an_invalid_pattern_names_its_line)
{
  try {
    DockerIgnore::parse("ok\n[unclosed\n");
    BOOST_FAIL("no error");
  } catch (const util::Error& e) {
    BOOST_CHECK(std::string(e.what()).find(".dockerignore:2") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
