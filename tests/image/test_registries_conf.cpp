// Unit tests for registries.conf (registry/registries_conf): the v2 TOML tables, their checks
// (errors naming file and line), longest-prefix matching with wildcards, rewriting to a location
// or a mirror, the drop-in merge by prefix, and which files are read for a home directory.
#include "registry/registries_conf.hpp"

#include "tests/support.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>

using namespace reproimg;
using namespace reproimg::registry;

namespace {

const char* const k_conf = R"(unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "made.up/team"
location = "127.0.0.1:5000/real"
insecure = true

[[registry.mirror]]
location = "mirror.local:5001/cache"
pull-from-mirror = "digest-only"

[[registry.mirror]]
location = "other.local"
insecure = true

[[registry]]
location = "quay.io"
blocked = true

[[registry]]
prefix = "*.example.com"
insecure = true

[[registry]]
prefix = "made.up"
location = "elsewhere.io:443"

[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
)";

// The error parse_registries_conf throws for text, or nullopt.
std::optional<util::Error> conf_error_of(const std::string& text)
{
  try {
    parse_registries_conf(text, "test.conf");
  } catch (const util::Error& e) {
    return e;
  }
  return std::nullopt;
}

void check_error(const std::string& text, std::int64_t line, const std::string& words)
{
  BOOST_TEST_CONTEXT(text)
  {
    const auto e = conf_error_of(text);
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST_REQUIRE(e->where().has_value());
    BOOST_TEST(e->where()->file == "test.conf");
    BOOST_TEST(e->where()->line.value_or(0) == line);
    BOOST_TEST(std::string(e->what()).find("test.conf:" + std::to_string(line)) != std::string::npos);
    BOOST_TEST(e->message().find(words) != std::string::npos, e->message());
    BOOST_TEST(static_cast<int>(e->code()) == 2);
  }
}

using test::ScopedEnv;

} // namespace

BOOST_AUTO_TEST_SUITE(registries_conf)

BOOST_AUTO_TEST_CASE(reads_the_registry_tables_and_their_mirrors)
{
  const RegistriesConf conf = parse_registries_conf(k_conf, "r.conf");
  BOOST_TEST_REQUIRE(conf.registries.size() == 4u);
  const RegistryEntry* team = conf.find("made.up/team/app");
  BOOST_TEST_REQUIRE(team != nullptr);
  BOOST_TEST(team->prefix == "made.up/team");
  BOOST_TEST(team->location == "127.0.0.1:5000/real");
  BOOST_TEST((team->insecure == Insecure::yes));
  BOOST_TEST((team->blocked == Blocked::no));
  BOOST_TEST(team->source.display() == "r.conf:3");
  BOOST_TEST_REQUIRE(team->mirrors.size() == 2u);
  BOOST_TEST(team->mirrors[0].location == "mirror.local:5001/cache");
  BOOST_TEST((team->mirrors[0].pull_from == PullFromMirror::digest_only));
  BOOST_TEST((team->mirrors[0].insecure == Insecure::no));
  BOOST_TEST((team->mirrors[1].pull_from == PullFromMirror::all));
  BOOST_TEST((team->mirrors[1].insecure == Insecure::yes));
  const RegistryEntry* quay = conf.find("quay.io/org/x");
  BOOST_TEST_REQUIRE(quay != nullptr);
  BOOST_TEST(quay->prefix == "quay.io"); // the location when no prefix is given
  BOOST_TEST((quay->blocked == Blocked::yes));
}

BOOST_AUTO_TEST_CASE(the_longest_matching_prefix_wins_at_component_boundaries)
{
  const RegistriesConf conf = parse_registries_conf(k_conf, "r.conf");
  BOOST_TEST(conf.find("made.up/team/app")->prefix == "made.up/team");
  BOOST_TEST(conf.find("made.up/team")->prefix == "made.up/team");
  BOOST_TEST(conf.find("made.up/teamwork/app")->prefix == "made.up"); // not a component boundary
  BOOST_TEST(conf.find("made.up/other")->prefix == "made.up");
  BOOST_TEST(conf.find("made.upx/other") == nullptr);
  BOOST_TEST(conf.find("docker.io/library/debian") == nullptr);
  BOOST_TEST(conf.find("a.example.com/x")->prefix == "*.example.com");
  BOOST_TEST(conf.find("b.a.example.com:5000/x")->prefix == "*.example.com");
  BOOST_TEST(conf.find("example.com/x") == nullptr); // a wildcard matches hosts below the domain only
  BOOST_TEST(conf.find("notexample.com/x") == nullptr);
}

BOOST_AUTO_TEST_CASE(names_are_rewritten_to_the_location_or_a_mirror)
{
  const RegistriesConf conf = parse_registries_conf(k_conf, "r.conf");
  const RegistryEntry& team = *conf.find("made.up/team/app");
  BOOST_TEST(rewrite_name(team, team.location, "made.up/team/app") == "127.0.0.1:5000/real/app");
  BOOST_TEST(rewrite_name(team, team.mirrors[0].location, "made.up/team/a/b") == "mirror.local:5001/cache/a/b");
  BOOST_TEST(rewrite_name(team, team.location, "made.up/team") == "127.0.0.1:5000/real");
  const RegistryEntry& wild = *conf.find("a.example.com/x");
  BOOST_TEST(rewrite_name(wild, wild.location, "a.example.com/x") == "a.example.com/x"); // no location
  BOOST_TEST(rewrite_name(wild, "mirror.local", "a.example.com/x/y") == "mirror.local/x/y");
}

BOOST_AUTO_TEST_CASE(errors_name_the_file_and_line)
{
  check_error("[[registry]]\nprefix = \"a.io\"\nlocation = \n", 3, "not TOML");
  check_error("[[registry]]\nlocation = \"a.io\"\n[[registry]\n", 3, "not TOML");
  check_error("\n[[registry]]\nlocation = \"a.io\"\ninsecure = \"yes\"\n", 4, "'insecure' must be true or false");
  check_error("[[registry]]\nlocation = 5\n", 2, "'location' must be a string");
  check_error("[[registry]]\nlocation = \"https://a.io\"\n", 1, "URI schemes are not supported");
  check_error("[[registry]]\ninsecure = true\n", 1, "neither prefix nor location");
  check_error("[[registry]]\nprefix = \"a.*.io\"\nlocation = \"b.io\"\n", 1, "'*'");
  check_error("[[registry]]\nprefix = \"*.a.io/x\"\n", 1, "wildcard");
  check_error("[[registry]]\nlocation = \"a.io\"\n\n[[registry]]\nprefix = \"a.io\"\nlocation = \"b.io\"\n", 4,
              "given twice (first at line 1)");
  check_error("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\ninsecure = true\n", 3, "without a location");
  check_error(
      "[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"some\"\n", 3,
      "pull-from-mirror");
  check_error("registry = 3\n", 1, "array of tables");
  check_error("[registry]\nlocation = \"a.io\"\n", 1, "array of tables");
}

BOOST_AUTO_TEST_CASE(mirror_by_digest_only_makes_every_mirror_digest_only)
{
  const RegistriesConf conf = parse_registries_conf("[[registry]]\nlocation = \"a.io\"\nmirror-by-digest-only = true\n"
                                                    "[[registry.mirror]]\nlocation = \"m.io\"\n"
                                                    "[[registry.mirror]]\nlocation = \"n.io\"\n",
                                                    "d.conf");
  BOOST_TEST_REQUIRE(conf.registries.at(0).mirrors.size() == 2u);
  for (const auto& m : conf.registries[0].mirrors) BOOST_TEST((m.pull_from == PullFromMirror::digest_only));
  check_error("[[registry]]\nlocation = \"a.io\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "
              "\"m.io\"\npull-from-mirror = \"all\"\n",
              4, "mirror-by-digest-only");
}

BOOST_AUTO_TEST_CASE(files_without_registry_tables_are_no_configuration)
{
  BOOST_TEST(parse_registries_conf("", "e.conf").registries.empty());
  BOOST_TEST(parse_registries_conf("# comments only\nshort-name-mode = \"enforcing\"\n", "e.conf").registries.empty());
}

BOOST_AUTO_TEST_CASE(a_later_file_replaces_entries_of_the_same_prefix)
{
  RegistriesConf conf = parse_registries_conf("[[registry]]\nlocation = \"a.io\"\ninsecure = true\n"
                                              "[[registry]]\nlocation = \"b.io\"\n",
                                              "main.conf");
  conf.merge(parse_registries_conf("[[registry]]\nprefix = \"a.io\"\nlocation = \"c.io\"\n"
                                   "[[registry]]\nlocation = \"d.io\"\nblocked = true\n",
                                   "50-drop.conf"));
  BOOST_TEST_REQUIRE(conf.registries.size() == 3u);
  BOOST_TEST(conf.find("a.io/x")->location == "c.io");
  BOOST_TEST((conf.find("a.io/x")->insecure == Insecure::no)); // replaced whole, as containers/image does
  BOOST_TEST(conf.find("a.io/x")->source.file == "50-drop.conf");
  BOOST_TEST(conf.find("b.io/x")->source.file == "main.conf");
  BOOST_TEST((conf.find("d.io/x")->blocked == Blocked::yes));
  BOOST_TEST(conf.files == (std::vector<std::string>{"main.conf", "50-drop.conf"}));
}

BOOST_AUTO_TEST_CASE(the_files_read_follow_containers_image)
{
  test::TempDir home;
  const std::string dir = home.path() + "/.config/containers";
  std::filesystem::create_directories(dir + "/registries.conf.d");
  util::write_file_atomic(dir + "/registries.conf", "[[registry]]\nlocation = \"a.io\"\n");
  util::write_file_atomic(dir + "/registries.conf.d/20-b.conf", "[[registry]]\nlocation = \"b.io\"\n");
  util::write_file_atomic(dir + "/registries.conf.d/10-a.conf", "[[registry]]\nlocation = \"a.io\"\nblocked = true\n");
  util::write_file_atomic(dir + "/registries.conf.d/30-c.txt", "not toml [");
  {
    // The user's own file: the system's files are not read; drop-ins in name order.
    const ScopedEnv env("CONTAINERS_REGISTRIES_CONF", std::nullopt);
    const RegistriesConf conf = load_registries_conf(home.path());
    BOOST_TEST(conf.files == (std::vector<std::string>{dir + "/registries.conf", dir + "/registries.conf.d/10-a.conf",
                                                       dir + "/registries.conf.d/20-b.conf"}));
    BOOST_TEST((conf.find("a.io/x")->blocked == Blocked::yes));
  }
  {
    // $CONTAINERS_REGISTRIES_CONF names the main file; the user's drop-ins still apply.
    util::write_file_atomic(home.file("explicit.conf"), "[[registry]]\nlocation = \"e.io\"\n");
    const ScopedEnv env("CONTAINERS_REGISTRIES_CONF", home.file("explicit.conf"));
    const RegistriesConf conf = load_registries_conf(home.path());
    BOOST_TEST(conf.files.front() == home.file("explicit.conf"));
    BOOST_TEST(conf.find("e.io/x") != nullptr);
    BOOST_TEST(conf.find("b.io/x") != nullptr);
  }
  {
    util::write_file_atomic(dir + "/registries.conf.d/20-b.conf", "[[registry]]\n\nlocation = b.io\n");
    const ScopedEnv env("CONTAINERS_REGISTRIES_CONF", std::nullopt);
    try {
      load_registries_conf(home.path());
      BOOST_FAIL("a drop-in that is not TOML was accepted");
    } catch (const util::Error& e) {
      BOOST_TEST(std::string(e.what()).find(dir + "/registries.conf.d/20-b.conf:3") != std::string::npos, e.what());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
