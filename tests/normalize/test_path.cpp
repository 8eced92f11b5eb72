// Tests for normalize/path: canonical layer paths and exclude/truncate glob matching.
#include "normalize/path.hpp"

#include <boost/test/unit_test.hpp>

using namespace reproimg::normalize;

namespace {

std::string ok_path(std::string_view raw)
{
  const CanonicalPath cp = canonical_path(raw);
  BOOST_TEST((cp.status == PathStatus::ok), "status of '" << raw << "'");
  return cp.path;
}

bool status_is(std::string_view raw, PathStatus status)
{
  return canonical_path(raw).status == status;
}

} // namespace

BOOST_AUTO_TEST_SUITE(canonical_path_rules)

BOOST_AUTO_TEST_CASE(dot_slash_double_slash_and_trailing_slash_are_folded)
{
  BOOST_TEST(ok_path("./a//b/./c/") == "a/b/c");
  BOOST_TEST(ok_path("a/b/c") == "a/b/c");
  BOOST_TEST(ok_path("etc/") == "etc");
  BOOST_TEST(ok_path("./etc") == "etc");
  BOOST_TEST(ok_path("././etc//passwd") == "etc/passwd");
  BOOST_TEST(ok_path("a/.") == "a");
}

BOOST_AUTO_TEST_CASE(leading_slashes_are_removed)
{
  BOOST_TEST(ok_path("/etc/passwd") == "etc/passwd");
  BOOST_TEST(ok_path("//usr///bin/") == "usr/bin");
  BOOST_TEST(ok_path("/./x") == "x");
}

BOOST_AUTO_TEST_CASE(names_that_only_look_like_dot_components_are_kept)
{
  BOOST_TEST(ok_path("...") == "...");
  BOOST_TEST(ok_path("a/..b") == "a/..b");
  BOOST_TEST(ok_path("a/b..") == "a/b..");
  BOOST_TEST(ok_path(".hidden/.x") == ".hidden/.x");
  BOOST_TEST(ok_path(".wh..wh..opq") == ".wh..wh..opq");
}

BOOST_AUTO_TEST_CASE(raw_bytes_are_kept_verbatim)
{
  const std::string latin1 = "caf\xe9/\x01name";
  BOOST_TEST(ok_path(latin1) == latin1);
  BOOST_TEST(ok_path("a b/c\\d") == "a b/c\\d");
}

BOOST_AUTO_TEST_CASE(root_spellings_are_the_root)
{
  BOOST_TEST(status_is("/", PathStatus::root));
  BOOST_TEST(status_is("./", PathStatus::root));
  BOOST_TEST(status_is(".", PathStatus::root));
  BOOST_TEST(status_is("//", PathStatus::root));
  BOOST_TEST(status_is("./././", PathStatus::root));
  BOOST_TEST(canonical_path("./").path.empty());
}

BOOST_AUTO_TEST_CASE(a_dot_dot_component_anywhere_is_unsafe)
{
  BOOST_TEST(status_is("..", PathStatus::unsafe));
  BOOST_TEST(status_is("../etc/passwd", PathStatus::unsafe));
  BOOST_TEST(status_is("a/../b", PathStatus::unsafe));
  BOOST_TEST(status_is("a/b/..", PathStatus::unsafe));
  BOOST_TEST(status_is("a/b/../", PathStatus::unsafe));
  BOOST_TEST(status_is("/../x", PathStatus::unsafe));
  BOOST_TEST(status_is("./..//x", PathStatus::unsafe));
  BOOST_TEST(canonical_path("a/../a").path.empty());
}

BOOST_AUTO_TEST_CASE(the_empty_string_is_empty)
{
  BOOST_TEST(status_is("", PathStatus::empty));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(glob_matching)

BOOST_AUTO_TEST_CASE(a_glob_matches_the_path_itself)
{
  BOOST_TEST(glob_matches_path_or_parent("etc/machine-id", "etc/machine-id"));
  BOOST_TEST(!glob_matches_path_or_parent("etc/machine-id", "etc/machine-id.bak"));
  BOOST_TEST(!glob_matches_path_or_parent("etc/machine-id", "etc/machine"));
  BOOST_TEST(!glob_matches_path_or_parent("etc/machine-id", "var/etc/machine-id"));
  BOOST_TEST(glob_matches_path_or_parent("var/log/*.log", "var/log/dpkg.log"));
  BOOST_TEST(glob_matches_path_or_parent("tmp/?", "tmp/x"));
  BOOST_TEST(!glob_matches_path_or_parent("tmp/?", "tmp/xy"));
  BOOST_TEST(glob_matches_path_or_parent("etc/ssh/ssh_host_[er]*", "etc/ssh/ssh_host_rsa_key"));
}

BOOST_AUTO_TEST_CASE(a_glob_matching_an_ancestor_matches_everything_below_it)
{
  BOOST_TEST(glob_matches_path_or_parent("var/log", "var/log"));
  BOOST_TEST(glob_matches_path_or_parent("var/log", "var/log/apt/history.log"));
  BOOST_TEST(glob_matches_path_or_parent("var/lib/apt/lists/*", "var/lib/apt/lists/partial/x"));
  BOOST_TEST(!glob_matches_path_or_parent("var/log", "var/logs/x"));
  BOOST_TEST(!glob_matches_path_or_parent("var/log", "var"));
  BOOST_TEST(!glob_matches_path_or_parent("var/log/x", "var/log"));
}

BOOST_AUTO_TEST_CASE(leading_slash_or_dot_slash_in_the_glob_is_ignored)
{
  BOOST_TEST(glob_matches_path_or_parent("/var/log/*", "var/log/syslog"));
  BOOST_TEST(glob_matches_path_or_parent("./var/log/*", "var/log/syslog"));
  BOOST_TEST(glob_matches_path_or_parent("//var/log", "var/log/syslog"));
  BOOST_TEST(glob_matches_path_or_parent("././var/log", "var/log/syslog"));
  BOOST_TEST(glob_matches_path_or_parent("/etc/machine-id", "etc/machine-id"));
  BOOST_TEST(glob_matches_path_or_parent("var/log/", "var/log/syslog"));
}

BOOST_AUTO_TEST_CASE(a_leading_dot_that_is_part_of_a_name_is_kept)
{
  BOOST_TEST(glob_matches_path_or_parent(".cache", ".cache/x"));
  BOOST_TEST(!glob_matches_path_or_parent(".cache", "cache/x"));
  BOOST_TEST(glob_matches_path_or_parent(".wh.*", ".wh.foo"));
}

BOOST_AUTO_TEST_CASE(star_crosses_slashes)
{
  BOOST_TEST(glob_matches_path_or_parent("var/*.log", "var/log/apt/term.log"));
  BOOST_TEST(glob_matches_path_or_parent("*", "a/b/c"));
  BOOST_TEST(glob_matches_path_or_parent("usr/*/__pycache__", "usr/lib/python3/dist-packages/__pycache__"));
  BOOST_TEST(glob_matches_path_or_parent("*.pyc", "usr/lib/x/y.pyc"));
  BOOST_TEST(!glob_matches_path_or_parent("*.pyc", "usr/lib/x/y.py"));
}

BOOST_AUTO_TEST_SUITE_END()
