// Tests for util/progress: what the progress line says, with and without a known total.
#include "util/progress.hpp"

#include <boost/test/unit_test.hpp>

using namespace reproimg::util;

BOOST_AUTO_TEST_SUITE(progress)

BOOST_AUTO_TEST_CASE(a_known_total_gives_how_far_along_and_the_time_left)
{
  Progress p(ProgressMode::off, "reading big.tar.gz");
  p.add_total(500u << 20);
  p.add(250u << 20, 3);
  // 250 MiB in 10 s: 25 MiB/s, 250 MiB to go: 10 s.
  BOOST_TEST(p.line(10.0) == "reading big.tar.gz: 250.0 MiB of 500.0 MiB (50%), 3 entries, 25.0 MiB/s, 10 s left");
}

BOOST_AUTO_TEST_CASE(a_known_number_of_entries_is_said_too)
{
  Progress p(ProgressMode::off, "writing");
  p.add_total(400u << 20, 512);
  p.add(100u << 20, 128);
  BOOST_TEST(p.line(5.0) == "writing: 100.0 MiB of 400.0 MiB (25%), 128 of 512 entries, 20.0 MiB/s, 15 s left");
}

BOOST_AUTO_TEST_CASE(totals_add_up_over_several_inputs)
{
  Progress p(ProgressMode::off, "reading");
  p.add_total(100u << 20);
  p.add_total(300u << 20);
  p.add(100u << 20);
  BOOST_TEST(p.line(1.0).find("100.0 MiB of 400.0 MiB (25%)") != std::string::npos, p.line(1.0));
}

BOOST_AUTO_TEST_CASE(without_a_total_the_line_says_what_is_done_and_the_rate)
{
  Progress p(ProgressMode::off, "reading dir:rootfs");
  p.add(3u << 20, 40);
  BOOST_TEST(p.line(2.0) == "reading dir:rootfs: 3.0 MiB, 40 entries, 1.5 MiB/s");
}

BOOST_AUTO_TEST_CASE(durations_read_as_a_person_says_them)
{
  BOOST_TEST(human_duration(0.2) == "0 s");
  BOOST_TEST(human_duration(45) == "45 s");
  BOOST_TEST(human_duration(125) == "2 min 05 s");
  BOOST_TEST(human_duration(3600 + 7 * 60 + 20) == "1 h 07 min");
}

BOOST_AUTO_TEST_SUITE_END()
