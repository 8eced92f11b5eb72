// Unit tests for the registry client's pure parts: docker:// reference resolution (Docker's and
// skopeo's rules), WWW-Authenticate challenges, auth files and credential helpers, Retry-After,
// registry error bodies, URL origins (what decides whether credentials go along a redirect).
#include "image/image_source.hpp"
#include "registry/auth.hpp"
#include "registry/client.hpp"
#include "registry/http.hpp"
#include "registry/reference.hpp"

#include "tests/support.hpp"
#include "util/error.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <sys/stat.h>

using namespace reproimg;
using namespace reproimg::registry;

namespace {

const std::string k_digest = "sha256:" + std::string(64, 'a');

void check_ref(const std::string& spec, const std::string& registry, const std::string& repository,
               const std::string& tag, const std::string& digest)
{
  BOOST_TEST_CONTEXT(spec)
  {
    const Reference r = parse_reference(spec);
    BOOST_TEST(r.registry == registry);
    BOOST_TEST(r.repository == repository);
    BOOST_TEST(r.tag == tag);
    BOOST_TEST(r.digest == digest);
  }
}

using test::ScopedEnv;

} // namespace

BOOST_AUTO_TEST_SUITE(registry_reference)

BOOST_AUTO_TEST_CASE(docker_hub_names_get_the_registry_and_library_prefix)
{
  check_ref("docker://alpine", "docker.io", "library/alpine", "latest", "");
  check_ref("alpine:3.19", "docker.io", "library/alpine", "3.19", "");
  check_ref("docker://docker.io/alpine", "docker.io", "library/alpine", "latest", "");
  check_ref("docker://index.docker.io/library/debian:12", "docker.io", "library/debian", "12", "");
  check_ref("docker://user/app:v1", "docker.io", "user/app", "v1", "");
  check_ref("docker://registry-1.docker.io/user/app", "docker.io", "user/app", "latest", "");
}

BOOST_AUTO_TEST_CASE(a_first_component_with_a_dot_a_port_or_localhost_is_the_registry)
{
  check_ref("docker://localhost:5000/app", "localhost:5000", "app", "latest", "");
  check_ref("docker://localhost/app:1", "localhost", "app", "1", "");
  check_ref("docker://127.0.0.1:41234/a/b/c:t-1.0", "127.0.0.1:41234", "a/b/c", "t-1.0", "");
  check_ref("docker://ghcr.io/org/image@" + k_digest, "ghcr.io", "org/image", "", k_digest);
  check_ref("docker://quay.io/org/image:1@" + k_digest, "quay.io", "org/image", "1", k_digest);
  check_ref("docker://[::1]:5000/app", "[::1]:5000", "app", "latest", "");
  // Without a dot, a port or "localhost", the first component is a Docker Hub namespace.
  check_ref("docker://myhost/app", "docker.io", "myhost/app", "latest", "");
}

BOOST_AUTO_TEST_CASE(names_print_with_the_digest_winning_over_the_tag)
{
  BOOST_TEST(parse_reference("docker://alpine").name() == "docker.io/library/alpine:latest");
  BOOST_TEST(parse_reference("docker://quay.io/o/i:1@" + k_digest).name() == "quay.io/o/i@" + k_digest);
  BOOST_TEST(parse_reference("quay.io/o/i:1@" + k_digest).manifest_reference() == k_digest);
  BOOST_TEST(api_host("docker.io") == "registry-1.docker.io");
  BOOST_TEST(api_host("localhost:5000") == "localhost:5000");
}

BOOST_AUTO_TEST_CASE(malformed_references_are_errors_naming_them)
{
  for (const std::string& bad : std::vector<std::string>{
           "docker://", "docker://Alpine", "docker://alpine:", "docker://alpine:-x", "docker://alpine@sha256:abc",
           "docker://alpine@md5:" + std::string(32, 'a'), "docker://a//b", "docker://a/-b", "docker://localhost:5000/",
           "docker://a b", "docker://alpine:" + std::string(129, 't'), "docker://bad_host.io:x/a"}) {
    BOOST_TEST_CONTEXT(bad)
    {
      BOOST_CHECK_THROW(parse_reference(bad), util::Error);
    }
  }
}

BOOST_AUTO_TEST_CASE(parse_image_ref_takes_docker_references_as_registry_images)
{
  const auto ref = image::parse_image_ref("docker://localhost:5000/app:1");
  BOOST_REQUIRE(ref.has_value());
  BOOST_TEST(static_cast<int>(ref->kind) == static_cast<int>(image::ImageRef::Kind::registry));
  BOOST_TEST(ref->path == "docker://localhost:5000/app:1");
  BOOST_TEST(std::string(image::kind_name(ref->kind)) == "docker");
  BOOST_CHECK_THROW(image::parse_image_ref("docker://UPPER/case"), util::Error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(registry_auth)

BOOST_AUTO_TEST_CASE(challenges_are_parsed_with_quoted_commas)
{
  const auto c = parse_challenges(
      R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push")");
  BOOST_REQUIRE_EQUAL(c.size(), 1u);
  BOOST_TEST(c[0].scheme == "bearer");
  BOOST_TEST(c[0].params.at("realm") == "https://auth.example/token");
  BOOST_TEST(c[0].params.at("service") == "registry.example");
  BOOST_TEST(c[0].params.at("scope") == "repository:a/b:pull,push");
  const auto two = parse_challenges(R"(Basic realm="Registry Realm", Bearer realm="x\"y",error=invalid_token)");
  BOOST_REQUIRE_EQUAL(two.size(), 2u);
  BOOST_TEST(two[0].scheme == "basic");
  BOOST_TEST(two[0].params.at("realm") == "Registry Realm");
  BOOST_TEST(two[1].params.at("realm") == "x\"y");
  BOOST_TEST(two[1].params.at("error") == "invalid_token");
  BOOST_TEST(parse_challenges("").empty());
}

BOOST_AUTO_TEST_CASE(base64_round_trips_and_refuses_garbage)
{
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "user:pa:ss", std::string("\0\xff", 2)}) {
    BOOST_TEST(base64_decode(base64_encode(s), "t") == s);
  }
  BOOST_TEST(base64_encode("user:pass") == "dXNlcjpwYXNz");
  BOOST_CHECK_THROW(base64_decode("abc", "t"), util::Error);
  BOOST_CHECK_THROW(base64_decode("a*b=", "t"), util::Error);
}

BOOST_AUTO_TEST_CASE(creds_option_takes_user_and_optional_password)
{
  const Credentials c = parse_creds_option("me:se:cret");
  BOOST_TEST(c.username == "me");
  BOOST_TEST(c.password == "se:cret");
  BOOST_TEST(parse_creds_option("me").password.empty());
  BOOST_CHECK_THROW(parse_creds_option(":pw"), util::Error);
}

BOOST_AUTO_TEST_CASE(auth_files_match_docker_hub_keys_and_the_most_specific_repository)
{
  const std::string text = R"({"auths": {
    "https://index.docker.io/v1/": {"auth": ")" +
                           base64_encode("hub:hubpw") + R"("},
    "localhost:5000": {"auth": ")" +
                           base64_encode("any:anypw") + R"("},
    "localhost:5000/team": {"auth": ")" +
                           base64_encode("team:teampw") + R"("},
    "http://plain.example/v2/": {"auth": ")" +
                           base64_encode("plain:pw") + R"("}
  }})";
  auto c = credentials_in_auth_file(text, "docker.io", "library/alpine", "auth.json");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->username == "hub");
  c = credentials_in_auth_file(text, "localhost:5000", "team/app", "auth.json");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->username == "team");
  c = credentials_in_auth_file(text, "localhost:5000", "other/app", "auth.json");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->password == "anypw");
  c = credentials_in_auth_file(text, "plain.example", "x", "auth.json");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->username == "plain");
  BOOST_TEST(!credentials_in_auth_file(text, "ghcr.io", "x", "auth.json"));
  BOOST_CHECK_THROW(credentials_in_auth_file("{", "ghcr.io", "x", "auth.json"), util::Error);
  BOOST_CHECK_THROW(credentials_in_auth_file(R"({"auths":{"ghcr.io":{"auth":"bm9jb2xvbg=="}}})", "ghcr.io", "x", "a"),
                    util::Error); // "nocolon"
}

BOOST_AUTO_TEST_CASE(credential_helpers_are_asked_and_their_errors_mean_anonymous)
{
  test::TempDir dir;
  // A helper that knows one server: it reads the server URL on stdin, as docker-credential-* do.
  const std::string helper = dir.file("docker-credential-fake");
  util::write_file_atomic(
      helper,
      "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 3\n"
      "case \"$server\" in\n"
      "  https://index.docker.io/v1/) echo '{\"ServerURL\":\"x\",\"Username\":\"hubby\",\"Secret\":\"s3\"}' ;;\n"
      "  tok.example) echo '{\"Username\":\"<token>\",\"Secret\":\"refresh\"}' ;;\n"
      "  *) echo 'credentials not found in native keychain'; exit 1 ;;\n"
      "esac\n",
      0755);
  const ScopedEnv path("PATH",
                       dir.path() + ":" + std::string(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"));
  auto c = credentials_in_auth_file(R"({"credsStore": "fake"})", "docker.io", "library/x", "config.json");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->username == "hubby");
  BOOST_TEST(c->password == "s3");
  BOOST_TEST(c->source == "docker-credential-fake");
  c = credentials_in_auth_file(R"({"credHelpers": {"tok.example": "fake"}})", "tok.example", "x", "config.json");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->identity_token == "refresh");
  BOOST_TEST(c->username.empty());
  BOOST_TEST(!credentials_in_auth_file(R"({"credsStore": "fake"})", "ghcr.io", "x", "config.json"));
  // credHelpers wins over auths for its registry.
  c = credentials_in_auth_file(R"({"credHelpers": {"https://index.docker.io/v1/": "fake"},
                                  "auths": {"docker.io": {"auth": "dTpw"}}})",
                               "docker.io", "library/x", "config.json");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->username == "hubby");
  BOOST_CHECK_THROW(credentials_in_auth_file(R"({"credsStore": "absent-helper"})", "x.io", "x", "c"), util::Error);
  BOOST_CHECK_THROW(credentials_in_auth_file(R"({"credsStore": "../evil"})", "x.io", "x", "c"), util::Error);
}

BOOST_AUTO_TEST_CASE(find_credentials_reads_the_files_in_skopeos_order)
{
  test::TempDir dir;
  ::mkdir(dir.file("run").c_str(), 0700);
  ::mkdir(dir.file("run/containers").c_str(), 0700);
  ::mkdir(dir.file("docker").c_str(), 0700);
  util::write_file_atomic(dir.file("run/containers/auth.json"),
                          R"({"auths":{"a.io":{"auth":")" + base64_encode("runtime:1") + R"("}}})");
  util::write_file_atomic(dir.file("docker/config.json"), R"({"auths":{"a.io":{"auth":")" + base64_encode("docker:2") +
                                                              R"("},"b.io":{"auth":")" + base64_encode("docker:3") +
                                                              R"("}}})");
  util::write_file_atomic(dir.file("explicit.json"),
                          R"({"auths":{"c.io":{"auth":")" + base64_encode("explicit:4") + R"("}}})");
  const ScopedEnv home("HOME", dir.file("nohome"));
  const ScopedEnv run("XDG_RUNTIME_DIR", dir.file("run"));
  const ScopedEnv config("XDG_CONFIG_HOME", dir.file("noconfig"));
  const ScopedEnv docker("DOCKER_CONFIG", dir.file("docker"));
  BOOST_TEST(find_credentials("a.io", "r")->username == "runtime");
  BOOST_TEST(find_credentials("b.io", "r")->username == "docker");
  BOOST_TEST(!find_credentials("c.io", "r"));
  const ScopedEnv file("REGISTRY_AUTH_FILE", dir.file("explicit.json"));
  BOOST_TEST(find_credentials("c.io", "r")->username == "explicit");
  BOOST_TEST(find_credentials("a.io", "r")->username == "docker"); // REGISTRY_AUTH_FILE replaces the runtime file
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(registry_http)

BOOST_AUTO_TEST_CASE(retry_after_takes_seconds_or_a_date_and_is_capped)
{
  BOOST_TEST(*retry_after_seconds("2") == 2.0);
  BOOST_TEST(*retry_after_seconds("0") == 0.0);
  BOOST_TEST(*retry_after_seconds("100000") == 60.0);
  BOOST_TEST(*retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0); // in the past
  BOOST_TEST(!retry_after_seconds(""));
  BOOST_TEST(!retry_after_seconds("soon"));
}

BOOST_AUTO_TEST_CASE(registry_error_bodies_give_code_and_message)
{
  BOOST_TEST(registry_error_code(R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})") ==
             "MANIFEST_UNKNOWN: manifest unknown");
  BOOST_TEST(registry_error_code(R"({"errors":[{"code":"DENIED"}]})") == "DENIED");
  BOOST_TEST(registry_error_code("<html>502</html>").empty());
  BOOST_TEST(registry_error_code(R"({"errors":[]})").empty());
  BOOST_TEST(registry_error_code(R"({"errors":[{"code":"X\u0001"}]})") == "X\\x01");
}

BOOST_AUTO_TEST_CASE(origins_decide_where_credentials_go)
{
  BOOST_TEST(origin_of("https://Reg.Example:443/v2/x") == "https://reg.example");
  BOOST_TEST(origin_of("https://reg.example/v2/") == origin_of("https://reg.example:443/other"));
  BOOST_TEST(origin_of("http://reg.example/v2/") != origin_of("https://reg.example/v2/"));
  BOOST_TEST(origin_of("https://reg.example:5000/v2/") != origin_of("https://reg.example/v2/"));
  BOOST_TEST(origin_of("https://storage.example/blob?sig=1") != origin_of("https://reg.example/v2/"));
  BOOST_TEST(resolve_url("https://r.io/v2/a/blobs/x", "https://s.io/b?x=1") == "https://s.io/b?x=1");
  BOOST_TEST(resolve_url("https://r.io/v2/a/blobs/x", "/v2/a/blobs/uploads/1") == "https://r.io/v2/a/blobs/uploads/1");
  BOOST_TEST(resolve_url("https://r.io/v2/a/blobs/x?q=1", "y") == "https://r.io/v2/a/blobs/y");
  BOOST_TEST(resolve_url("https://r.io/v2/", "//s.io/z") == "https://s.io/z");
  BOOST_TEST(url_encode("repository:a/b:pull,push") == "repository%3Aa%2Fb%3Apull%2Cpush");
}

BOOST_AUTO_TEST_SUITE_END()
