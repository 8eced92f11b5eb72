// The compressors: the same bytes for every thread count and every way the input is cut, read
// back by zlib and libzstd; the known-answer check passes for the linked libraries and fails for
// another compressor (a test double).
#include "normalize/compress.hpp"
#include "normalize/known_answer.hpp"
#include "tests/codecs.hpp"
#include "tests/support.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>

namespace reproimg::normalize {

namespace {

// Some of everything a layer holds: text, runs of zeros, bytes no match is found in; size not a
// multiple of the gzip block, and long enough for several libzstd jobs.
std::string layer_like(size_t size)
{
  std::string out;
  out.reserve(size);
  std::uint64_t x = 88172645463325252ull;
  while (out.size() < size) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    switch (x % 3) {
    case 0: out += "etc/alternatives/" + std::to_string(x % 1000) + " -> /usr/bin/thing\n"; break;
    case 1: out.append(static_cast<size_t>(x % 3000), '\0'); break;
    default:
      for (int i = 0; i < 200; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_back(static_cast<char>(x & 0xff));
      }
    }
  }
  out.resize(size);
  return out;
}

// Compresses in, written in pieces of chunk bytes, on threads threads.
std::string compress(Compression c, const std::string& in, unsigned threads, size_t chunk)
{
  test::StringSink sink;
  auto compressor = make_compressor(c, sink, threads);
  for (size_t at = 0; at < in.size(); at += chunk) {
    compressor->write(in.data() + at, std::min(chunk, in.size() - at));
  }
  compressor->finish();
  return sink.bytes;
}

// The test double: a whole-stream compressor (one deflate stream; one zstd frame with no workers).
class OtherCompressor : public util::ByteSink {
public:
  OtherCompressor(Compression c, util::ByteSink& next) : m_c(c), m_next(next) {}
  void write(const void* data, size_t size) override { m_in.append(static_cast<const char*>(data), size); }
  void finish() override
  {
    const std::string out = m_c == Compression::gzip ? test::gzip(m_in) : test::zstd(m_in);
    m_next.write(out.data(), out.size());
    m_next.finish();
  }

private:
  Compression m_c;
  util::ByteSink& m_next;
  std::string m_in;
};

} // namespace

BOOST_AUTO_TEST_CASE(gzip_bytes_do_not_depend_on_threads_or_chunks)
{
  for (const size_t size : {size_t{0}, size_t{1}, k_gzip_block_size - 1, k_gzip_block_size, k_gzip_block_size + 1,
                            3 * k_gzip_block_size, size_t{3'000'001}}) {
    const std::string in = layer_like(size);
    const std::string one = compress(Compression::gzip, in, 1, 1 << 20);
    BOOST_TEST(test::gunzip(one) == in, "size " << size);
    const size_t chunks[] = {7, 4096, 100'000, 1 << 20};
    const unsigned threads[] = {1, 2, 3, 8};
    for (size_t i = 0; i < 4; ++i) {
      BOOST_TEST((compress(Compression::gzip, in, threads[i], chunks[i]) == one),
                 "size " << size << ", " << threads[i] << " threads");
    }
  }
}

BOOST_AUTO_TEST_CASE(gzip_blocks_use_the_previous_block_as_dictionary)
{
  // A block repeated: with the dictionary the second copy costs almost nothing.
  std::string block = layer_like(k_gzip_block_size);
  const std::string once = compress(Compression::gzip, block, 2, 1 << 20);
  const std::string twice = compress(Compression::gzip, block + block.substr(block.size() - 20000), 2, 1 << 20);
  BOOST_TEST(twice.size() < once.size() + 2000);
}

BOOST_AUTO_TEST_CASE(zstd_bytes_do_not_depend_on_threads_or_chunks)
{
  // 20 MB: more than one libzstd job at level 3.
  const std::string in = layer_like(20'000'000);
  const std::string one = compress(Compression::zstd, in, 1, 1 << 20);
  BOOST_TEST((test::unzstd(one) == in));
  const size_t chunks[] = {4096, 100'003, 1 << 20};
  const unsigned threads[] = {2, 3, 8};
  for (size_t i = 0; i < 3; ++i) {
    BOOST_TEST((compress(Compression::zstd, in, threads[i], chunks[i]) == one), threads[i] << " threads");
  }
  for (const size_t size : {size_t{0}, size_t{1}, size_t{70'000}}) {
    const std::string small = layer_like(size);
    BOOST_TEST((compress(Compression::zstd, small, 1, 4096) == compress(Compression::zstd, small, 8, 333)));
  }
}

BOOST_AUTO_TEST_CASE(known_answers_are_the_recorded_ones)
{
  // Recorded here as well as in the library: a change of either is seen.
  BOOST_TEST(known_answer_digest(Compression::gzip, "empty") ==
             "sha256:ac73670af3abed54ac6fb4695131f4099be9fbe39d6076c5d0264a6bbdae9d83");
  BOOST_TEST(known_answer_digest(Compression::gzip, "mixed") ==
             "sha256:e72357a35503a7cb39cc10a623b39c2456be0f1d46c1537fe32995c8df7c9e80");
  BOOST_TEST(known_answer_digest(Compression::zstd, "empty") ==
             "sha256:d950bda1b5d80fc3fdac65030aff317b00fd22609e9c830b3ac41bb0cb23294f");
  BOOST_TEST(known_answer_digest(Compression::zstd, "mixed") ==
             "sha256:57eaaeab65b82a7c5d3de3e77b95e68d3a5d313a5f38f75429fdd3e5f55dc46e");
  for (const Compression c : {Compression::gzip, Compression::zstd}) {
    const KnownAnswerResult& linked = linked_known_answers(c);
    BOOST_TEST((linked.status == KnownAnswer::pass), linked.detail);
    // The check runs the same sink a layer is written with, on any thread count.
    const KnownAnswerResult threaded =
        check_known_answers(c, [c](util::ByteSink& next) { return make_compressor(c, next, 3); });
    BOOST_TEST((threaded.status == KnownAnswer::pass), threaded.detail);
    BOOST_TEST(known_answer_summary(c).find(": canonical") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(known_answer_check_fails_for_another_compressor)
{
  for (const Compression c : {Compression::gzip, Compression::zstd}) {
    const KnownAnswerResult r =
        check_known_answers(c, [c](util::ByteSink& next) { return std::make_unique<OtherCompressor>(c, next); });
    BOOST_TEST((r.status == KnownAnswer::fail));
    BOOST_TEST(r.detail.find("mixed input: recorded " + known_answer_digest(c, "mixed")) != std::string::npos,
               r.detail);
  }
}

} // namespace reproimg::normalize
