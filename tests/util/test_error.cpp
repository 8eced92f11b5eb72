// Tests for util/error: the one-line message format and printable().
#include "util/error.hpp"

#include <boost/test/unit_test.hpp>

using namespace reproimg::util;

BOOST_AUTO_TEST_SUITE(error)

BOOST_AUTO_TEST_CASE(format_names_file_entry_and_offset_in_that_order)
{
  BOOST_TEST(Error::format(Location{"layer.tar", "etc/passwd", 1536, OffsetKind::tar}, "bad header") ==
             "layer.tar: entry etc/passwd: at tar offset 1536: bad header");
}

BOOST_AUTO_TEST_CASE(format_says_what_the_offset_counts)
{
  // A byte of the file as stored (the default), or a position in the decompressed tar stream.
  BOOST_TEST(Error::format(Location{"layer.tar.gz", std::nullopt, 200002}, "gzip data damaged") ==
             "layer.tar.gz: at byte 200002: gzip data damaged");
  BOOST_TEST(Error::format(Location{"layer.tar.gz", "a", 512, OffsetKind::tar}, "truncated") ==
             "layer.tar.gz: entry a: at tar offset 512: truncated");
}

BOOST_AUTO_TEST_CASE(in_entry_adds_the_entry_to_an_error_that_names_a_file_and_no_entry)
{
  const Error damaged(Location{"layer.tar.gz", std::nullopt, 200002}, "gzip data damaged", ExitCode::bad_input);
  BOOST_TEST(std::string(damaged.in_entry("usr/bin/tool").what()) ==
             "layer.tar.gz: entry usr/bin/tool: at byte 200002: gzip data damaged");
  BOOST_TEST(static_cast<int>(damaged.in_entry("x").code()) == 2);
  // An entry already named, or no file: left as it is.
  const Error named(Location{"f", "a", 3}, "m");
  BOOST_TEST(std::string(named.in_entry("b").what()) == "f: entry a: at byte 3: m");
  const Error plain("out of memory");
  BOOST_TEST(std::string(plain.in_entry("b").what()) == "out of memory");
}

BOOST_AUTO_TEST_CASE(format_leaves_out_the_unknown_parts)
{
  BOOST_TEST(Error::format(Location{}, "oops") == "oops");
  BOOST_TEST(Error::format(Location{"layer.tar", std::nullopt, std::nullopt}, "oops") == "layer.tar: oops");
  BOOST_TEST(Error::format(Location{"", "a/b", std::nullopt}, "oops") == "entry a/b: oops");
  BOOST_TEST(Error::format(Location{"", std::nullopt, 7}, "oops") == "at byte 7: oops");
  BOOST_TEST(Error::format(Location{"layer.tar", std::nullopt, 0}, "oops") == "layer.tar: at byte 0: oops");
  BOOST_TEST(Error::format(Location{"layer.tar", "a", std::nullopt}, "oops") == "layer.tar: entry a: oops");
}

BOOST_AUTO_TEST_CASE(format_keeps_the_message_on_one_line_whatever_the_entry_name)
{
  const std::string msg = Error::format(Location{"x\n.tar", std::string("a\nb\rc", 5), std::nullopt}, "m");
  BOOST_TEST(msg == "x\\x0a.tar: entry a\\x0ab\\x0dc: m");
  BOOST_TEST(msg.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(error_carries_the_formatted_message_and_exit_code)
{
  const Error located(Location{"f", "e", 3}, "broken");
  BOOST_TEST(std::string(located.what()) == "f: entry e: at byte 3: broken");
  BOOST_TEST(static_cast<int>(located.code()) == 2);
  const Error plain("differs", ExitCode::differs);
  BOOST_TEST(std::string(plain.what()) == "differs");
  BOOST_TEST(static_cast<int>(plain.code()) == 1);
}

BOOST_AUTO_TEST_CASE(printable_keeps_printable_ascii)
{
  const std::string ascii = " !\"#azAZ09~/\\";
  BOOST_TEST(printable(ascii) == ascii);
  BOOST_TEST(printable("").empty());
}

BOOST_AUTO_TEST_CASE(printable_escapes_control_bytes)
{
  BOOST_TEST(printable(std::string_view("\0", 1)) == "\\x00");
  BOOST_TEST(printable("a\tb\nc") == "a\\x09b\\x0ac");
  BOOST_TEST(printable("\x1b[31m") == "\\x1b[31m");
  BOOST_TEST(printable("\x1f\x7f") == "\\x1f\\x7f");
}

BOOST_AUTO_TEST_CASE(printable_keeps_valid_utf8)
{
  const std::string valid = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe0\xa0\x80 \xed\x9f\xbf \xee\x80\x80 "
                            "\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf \xc2\x80";
  BOOST_TEST(printable(valid) == valid);
}

BOOST_AUTO_TEST_CASE(printable_escapes_invalid_utf8_byte_by_byte)
{
  BOOST_TEST(printable("\x80") == "\\x80");             // a lone continuation byte
  BOOST_TEST(printable("a\xc3") == "a\\xc3");           // truncated at the end
  BOOST_TEST(printable("\xc3(") == "\\xc3(");           // lead byte without its continuation
  BOOST_TEST(printable("\xe2\x82") == "\\xe2\\x82");    // three-byte sequence cut short
  BOOST_TEST(printable("\xc0\x80") == "\\xc0\\x80");    // overlong NUL
  BOOST_TEST(printable("\xc1\xbf") == "\\xc1\\xbf");    // overlong two-byte
  BOOST_TEST(printable("\xf5\x80\x80\x80") == "\\xf5\\x80\\x80\\x80");
  BOOST_TEST(printable("\xff\xfe") == "\\xff\\xfe");
  BOOST_TEST(printable("\xc3\xa9\xa9") == "\xc3\xa9\\xa9"); // valid sequence, then a stray byte
}

BOOST_AUTO_TEST_CASE(printable_escapes_overlong_surrogate_and_out_of_range_sequences)
{
  // Not UTF-8 (RFC 3629): JSON encoders reject them, so a report holding them would not serialise.
  BOOST_TEST(printable("\xe0\x80\xaf") == "\\xe0\\x80\\xaf");         // overlong '/'
  BOOST_TEST(printable("\xe0\x9f\xbf") == "\\xe0\\x9f\\xbf");         // overlong U+07FF
  BOOST_TEST(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");         // surrogate U+D800
  BOOST_TEST(printable("\xed\xbf\xbf") == "\\xed\\xbf\\xbf");         // surrogate U+DFFF
  BOOST_TEST(printable("\xf0\x80\x80\xaf") == "\\xf0\\x80\\x80\\xaf"); // overlong four-byte
  BOOST_TEST(printable("\xf0\x8f\xbf\xbf") == "\\xf0\\x8f\\xbf\\xbf"); // overlong U+FFFF
  BOOST_TEST(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80"); // U+110000
}

BOOST_AUTO_TEST_CASE(format_puts_a_line_after_the_file)
{
  BOOST_TEST(Error::format(Location::of_line("Dockerfile", 3), "COPY: no source") == "Dockerfile:3: COPY: no source");
  BOOST_TEST(Error::format(Location::of("index.json"), "not valid JSON") == "index.json: not valid JSON");
}

// The kind of an error (a failure of the system, or bad input) is what callers that try an input
// one way and fall back on another decide by: adding to an error must not change it.
BOOST_AUTO_TEST_CASE(rethrowing_keeps_the_kind_and_the_code_of_an_error)
{
  const IoError io(Location::of("layer.tar"), "cannot read: Input/output error");
  const Error bad(Location::of("layer.tar"), "not a tar archive");
  const Error stopped("interrupted", ExitCode::interrupted);
  BOOST_CHECK_THROW(io.rethrow_in_entry("usr/bin/tool"), IoError);
  try {
    io.rethrow_in_entry("usr/bin/tool");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()) == "layer.tar: entry usr/bin/tool: cannot read: Input/output error");
  }
  BOOST_CHECK_THROW(io.rethrow_as(Location::of_line("Dockerfile", 2), "ADD: x"), IoError);
  BOOST_CHECK_THROW(IoError(Location{"f", "a", 3}, "m").rethrow_in_entry("b"), IoError); // entry named already
  BOOST_CHECK_THROW(IoError("no file").rethrow_in_entry("b"), IoError);
  for (const Error* e : {&bad, &stopped}) {
    try {
      e->rethrow_as(Location::of_line("Dockerfile", 2), std::string("ADD: ") + e->what());
    } catch (const IoError&) {
      BOOST_FAIL("bad input became a failure of the system");
    } catch (const Error& again) {
      BOOST_TEST(static_cast<int>(again.code()) == static_cast<int>(e->code()));
      BOOST_TEST(std::string(again.what()) == "Dockerfile:2: ADD: " + std::string(e->what()));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
