// Tests for util/spool: ranges come back byte-exact wherever they are kept (RAM, temp file, or the
// temp file's write buffer), including ranges that straddle the boundary.
#include "tests/support.hpp"
#include "util/error.hpp"
#include "util/spool.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <random>

using namespace reproimg;
using reproimg::test::StringSink;

namespace {

std::string pattern(size_t size, unsigned seed)
{
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (auto& c : out) {
    c = static_cast<char>(rng() & 0xff);
  }
  return out;
}

std::string read_range(util::Spool& spool, std::uint64_t offset, std::uint64_t size)
{
  StringSink sink;
  spool.copy_to(offset, size, sink);
  return sink.bytes;
}

struct Range {
  std::uint64_t offset;
  std::string bytes;
};

Range add(util::Spool& spool, const std::string& bytes)
{
  const std::uint64_t offset = spool.begin();
  spool.append(bytes.data(), bytes.size());
  return {offset, bytes};
}

using test::ScopedEnv;

} // namespace

BOOST_AUTO_TEST_SUITE(spool)

BOOST_AUTO_TEST_CASE(ranges_within_the_memory_limit_stay_in_memory)
{
  util::Spool spool(10);
  const Range a = add(spool, "abcd");
  const Range b = add(spool, "efghij");
  BOOST_TEST(a.offset == 0u);
  BOOST_TEST(b.offset == 4u);
  BOOST_TEST(spool.size() == 10u);
  BOOST_TEST(spool.spilled_bytes() == 0u);
  BOOST_TEST(read_range(spool, a.offset, 4) == "abcd");
  BOOST_TEST(read_range(spool, b.offset, 6) == "efghij");
  BOOST_TEST(read_range(spool, 2, 5) == "cdefg");
}

BOOST_AUTO_TEST_CASE(bytes_past_the_limit_spill_and_every_range_comes_back_exactly)
{
  util::Spool spool(10);
  std::vector<Range> ranges;
  ranges.push_back(add(spool, "abcd"));
  ranges.push_back(add(spool, "efghij")); // fills memory exactly
  ranges.push_back(add(spool, "klm"));    // first bytes in the temp file
  ranges.push_back(add(spool, "nopqrstuvwxyz"));
  BOOST_TEST(spool.size() == 26u);
  BOOST_TEST(spool.spilled_bytes() > 0u);
  BOOST_TEST(spool.size() - spool.spilled_bytes() <= 10u);
  // Read while the spilled bytes are still in the write buffer.
  for (const Range& r : ranges) {
    BOOST_TEST(read_range(spool, r.offset, r.bytes.size()) == r.bytes);
  }
  const std::string all = "abcdefghijklmnopqrstuvwxyz";
  BOOST_TEST(read_range(spool, 0, 26) == all);
  // Straddling the memory/file boundary at 10.
  BOOST_TEST(read_range(spool, 8, 5) == "ijklm");
  BOOST_TEST(read_range(spool, 9, 2) == "jk");
  BOOST_TEST(read_range(spool, 10, 1) == "k");
  BOOST_TEST(read_range(spool, 25, 1) == "z");
  BOOST_TEST(read_range(spool, 7, 0).empty());
}

BOOST_AUTO_TEST_CASE(appends_after_a_read_are_read_back_from_the_write_buffer)
{
  util::Spool spool(10);
  std::string model;
  std::vector<Range> ranges;
  for (unsigned i = 0; i < 40; ++i) {
    const std::string bytes = pattern(1 + (i * 7) % 13, i);
    ranges.push_back(add(spool, bytes));
    model += bytes;
    // The range just added is in the write buffer (not yet flushed), and the earlier ones are
    // wherever the previous reads left them.
    BOOST_TEST(read_range(spool, ranges.back().offset, bytes.size()) == bytes);
    BOOST_TEST(read_range(spool, 0, model.size()) == model);
  }
  for (const Range& r : ranges) {
    BOOST_TEST(read_range(spool, r.offset, r.bytes.size()) == r.bytes);
  }
}

BOOST_AUTO_TEST_CASE(a_range_that_does_not_fit_goes_whole_to_the_file)
{
  util::Spool spool(10);
  const Range a = add(spool, "abcd");
  const Range b = add(spool, "0123456789"); // 4 + 10 > 10
  const Range c = add(spool, "xy");         // would fit in RAM, but follows spilled bytes
  BOOST_TEST(spool.size() == 16u);
  BOOST_TEST(spool.size() - spool.spilled_bytes() <= 10u);
  BOOST_TEST(read_range(spool, a.offset, 4) == "abcd");
  BOOST_TEST(read_range(spool, b.offset, 10) == "0123456789");
  BOOST_TEST(read_range(spool, c.offset, 2) == "xy");
  BOOST_TEST(read_range(spool, 0, 16) == "abcd0123456789xy");
}

BOOST_AUTO_TEST_CASE(large_ranges_beyond_the_io_buffer_come_back_exactly)
{
  // Sizes around the 1 MiB I/O buffer, so writes bypass the write buffer and reads take several
  // chunks; reads at random offsets are compared with a model.
  util::Spool spool(1000);
  std::string model;
  std::vector<Range> ranges;
  const size_t sizes[] = {600, 700, (1u << 20) - 1, 1u << 20, 5, (1u << 20) + 3, 100000, (3u << 20) / 2};
  unsigned seed = 1;
  for (size_t n : sizes) {
    const std::string bytes = pattern(n, seed++);
    ranges.push_back(add(spool, bytes));
    model += bytes;
  }
  BOOST_REQUIRE(spool.size() == model.size());
  for (const Range& r : ranges) {
    BOOST_TEST((read_range(spool, r.offset, r.bytes.size()) == r.bytes), "range at " << r.offset);
  }
  std::mt19937_64 rng(42);
  for (int i = 0; i < 50; ++i) {
    const std::uint64_t offset = rng() % model.size();
    const std::uint64_t size = rng() % (model.size() - offset + 1);
    BOOST_TEST((read_range(spool, offset, size) == model.substr(offset, size)), "range " << offset << "+" << size);
  }
}

BOOST_AUTO_TEST_CASE(append_zeros_adds_exactly_that_many_zero_bytes)
{
  util::Spool spool(10);
  add(spool, "ab");
  const std::uint64_t start = spool.begin();
  spool.append_zeros(0);
  BOOST_TEST(spool.size() == 2u);
  spool.append_zeros(5);
  BOOST_TEST(spool.size() == 7u);
  spool.append_zeros(200000); // several chunks of the zero block, crossing into the file
  BOOST_TEST(spool.size() == 200007u);
  const Range tail = add(spool, "cd");
  BOOST_TEST(tail.offset == 200007u);
  BOOST_TEST(read_range(spool, start, 200005) == std::string(200005, '\0'));
  BOOST_TEST(read_range(spool, 0, 3) == std::string("ab\0", 3));
  BOOST_TEST(read_range(spool, 200006, 3) == std::string("\0cd", 3));
}

BOOST_AUTO_TEST_CASE(temp_directory_is_tmpdir_or_tmp)
{
  {
    ScopedEnv env("TMPDIR", "/some/where");
    BOOST_TEST(util::temp_directory() == "/some/where");
  }
  {
    ScopedEnv env("TMPDIR", "");
    BOOST_TEST(util::temp_directory() == "/tmp");
  }
  {
    ScopedEnv env("TMPDIR", nullptr);
    BOOST_TEST(util::temp_directory() == "/tmp");
  }
}

BOOST_AUTO_TEST_CASE(spilling_into_a_missing_tmpdir_throws_naming_it)
{
  util::Spool spool(4);
  add(spool, "abcd");
  ScopedEnv env("TMPDIR", "/nonexistent-reproimg-test-dir");
  try {
    add(spool, "e");
    BOOST_FAIL("spilling into a missing directory did not throw");
  } catch (const util::Error& e) {
    BOOST_TEST(std::string(e.what()).find("/nonexistent-reproimg-test-dir") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()
