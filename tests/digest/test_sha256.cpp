// Tests for digest/sha256, digest/background_sha256 and digest/chain_id.
#include "digest/background_sha256.hpp"
#include "digest/chain_id.hpp"
#include "digest/sha256.hpp"

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <random>
#include <stdexcept>

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

BOOST_AUTO_TEST_SUITE(background_sha256)

namespace {

std::string random_bytes(size_t size, unsigned seed)
{
  std::mt19937 rng(seed);
  std::string s(size, '\0');
  for (char& c : s) {
    c = static_cast<char>(rng());
  }
  return s;
}

// Keeps what it is given.
class StringSink : public reproimg::util::ByteSink {
public:
  void write(const void* data, size_t size) override { text.append(static_cast<const char*>(data), size); }
  void finish() override { finished = true; }
  std::string text;
  bool finished = false;
};

} // namespace

BOOST_AUTO_TEST_CASE(nothing_written_is_the_empty_digest)
{
  BackgroundHashingSink h;
  BOOST_TEST(h.digest() == sha256_digest(""));
  BOOST_TEST(h.bytes() == 0u);
}

// Pieces of every size, from one byte to several buffers, written and lent in turn: the digest
// and the forwarded stream are the bytes in order, whatever the queue did with them.
BOOST_AUTO_TEST_CASE(writes_and_loans_in_any_mix_hash_the_stream_in_order)
{
  const std::string data = random_bytes(5u << 20, 1);
  for (unsigned seed = 0; seed < 4; ++seed) {
    std::mt19937 rng(seed);
    StringSink forwarded;
    BackgroundHashingSink h(&forwarded);
    size_t pos = 0;
    while (pos < data.size()) {
      const size_t max_piece = rng() % 3 == 0 ? (1u << 20) : 700;
      const size_t want = std::min<size_t>(data.size() - pos, 1 + rng() % max_piece);
      if (rng() % 2 == 0) {
        h.write(data.data() + pos, want);
        pos += want;
      } else {
        const std::span<unsigned char> room = h.lend();
        BOOST_REQUIRE(room.size() >= 64u << 10);
        const size_t n = std::min(want, room.size());
        std::memcpy(room.data(), data.data() + pos, n);
        h.write_lent(n);
        pos += n;
      }
    }
    h.finish();
    BOOST_TEST(h.digest() == sha256_digest(data));
    BOOST_TEST(h.bytes() == data.size());
    BOOST_TEST(forwarded.finished);
    BOOST_TEST((forwarded.text == data));
  }
}

BOOST_AUTO_TEST_CASE(a_stream_shorter_than_a_buffer_is_hashed_and_forwarded)
{
  const std::string data = random_bytes(1000, 3);
  StringSink forwarded;
  BackgroundHashingSink h(&forwarded);
  h.write(data.data(), 600);
  const std::span<unsigned char> room = h.lend();
  std::memcpy(room.data(), data.data() + 600, 400);
  h.write_lent(400);
  BOOST_TEST(h.digest() == sha256_digest(data));
  BOOST_TEST((forwarded.text == data));
}

BOOST_AUTO_TEST_CASE(a_loan_cannot_be_overdrawn)
{
  BackgroundHashingSink h;
  const std::span<unsigned char> room = h.lend();
  BOOST_CHECK_THROW(h.write_lent(room.size() + 1), std::logic_error);
}

// An exception between writes destroys the sink with bytes still queued: no hang, no leak.
BOOST_AUTO_TEST_CASE(abandoned_with_a_full_queue_it_stops)
{
  const std::string data = random_bytes(8u << 20, 2);
  for (int i = 0; i < 20; ++i) {
    BackgroundHashingSink h;
    h.write(data.data(), data.size());
  }
  BOOST_TEST(true);
}

BOOST_AUTO_TEST_SUITE_END()
