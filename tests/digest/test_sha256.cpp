// Tests for digest/sha256 and digest/layer_ids.
#include "digest/layer_ids.hpp"
#include "digest/sha256.hpp"

#include <boost/test/unit_test.hpp>

using namespace reproimg::digest;

BOOST_AUTO_TEST_SUITE(sha256)

BOOST_AUTO_TEST_CASE(empty_input_has_the_known_digest)
{
  BOOST_TEST(sha256_digest("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

BOOST_AUTO_TEST_CASE(streaming_in_pieces_equals_one_shot)
{
  Sha256 h;
  h.update("ab");
  h.update("c");
  BOOST_TEST(h.finish_digest() == sha256_digest("abc"));
  BOOST_TEST(sha256_digest("abc") == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(chain_id_follows_the_oci_definition)
{
  const std::string a = sha256_digest("a");
  const std::string b = sha256_digest("b");
  const auto ids = chain_ids({a, b});
  BOOST_REQUIRE_EQUAL(ids.size(), 2u);
  BOOST_TEST(ids[0] == a);
  BOOST_TEST(ids[1] == sha256_digest(a + " " + b));
}

BOOST_AUTO_TEST_CASE(digest_syntax_is_checked)
{
  BOOST_TEST(is_sha256_digest(sha256_digest("x")));
  BOOST_TEST(!is_sha256_digest("sha256:abc"));
  BOOST_TEST(!is_sha256_digest("sha512:" + std::string(64, 'a')));
  BOOST_TEST(!is_sha256_digest("sha256:" + std::string(64, 'A')));
}

BOOST_AUTO_TEST_SUITE_END()
