// Tests for the strict header checks (readers/tar_headers) and for the capture of the raw tar
// bytes they judge (readers/archive_input, tar_reader): on hand-made header blocks, then through
// normalize_layer from a file, a FIFO, gzip and zstd, with the header chain straddling read blocks.
#include "normalize/pipeline.hpp"
#include "readers/tar_headers.hpp"
#include "tests/codecs.hpp"
#include "tests/support.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <boost/test/unit_test.hpp>


#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace reproimg;
using namespace reproimg::normalize;
using namespace reproimg::readers;
using reproimg::test::StringSink;
using reproimg::test::TempDir;
using reproimg::test::gzip;
using reproimg::test::zstd;

namespace {

std::string pad(std::string s)
{
  s.append((k_tar_block - s.size() % k_tar_block) % k_tar_block, '\0');
  return s;
}

// Writes a header block's checksum field.
std::string seal(std::string h)
{
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) {
    sum += c;
  }
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  h[155] = ' ';
  return h;
}

// A ustar header block with a correct checksum. size_field, when given, replaces the size field.
std::string header(const std::string& name, char type, std::uint64_t size, const std::string& size_field = "")
{
  std::string h(k_tar_block, '\0');
  std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
  std::snprintf(h.data() + 100, 8, "%07o", 0644u);
  std::snprintf(h.data() + 108, 8, "%07o", 0u);
  std::snprintf(h.data() + 116, 8, "%07o", 0u);
  if (size_field.empty()) {
    std::snprintf(h.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  } else {
    std::memcpy(h.data() + 124, size_field.data(), std::min<size_t>(size_field.size(), 12));
  }
  std::snprintf(h.data() + 136, 12, "%011o", 1000000u);
  h[156] = type;
  std::memcpy(h.data() + 257, "ustar\0" "00", 8);
  return seal(h);
}

std::string record(const std::string& key, const std::string& value)
{
  const size_t body = key.size() + value.size() + 3;
  size_t len = body + std::to_string(body).size();
  if (std::to_string(len).size() != std::to_string(body).size()) {
    len = body + std::to_string(len).size();
  }
  return std::to_string(len) + " " + key + "=" + value + "\n";
}

std::string pax(const std::string& records, char type = 'x')
{
  return header("PaxHeaders/entry", type, records.size()) + pad(records);
}

std::string tar_file(const std::string& name, const std::string& content)
{
  return header(name, '0', content.size()) + pad(content);
}

std::string end_of_archive()
{
  return std::string(2 * k_tar_block, '\0');
}

// Normalises path; returns the error message, or "" when it was accepted (and the output in *out).
std::string refusal(const std::string& path, std::string* out = nullptr)
{
  NormalizeOptions o;
  o.progress = util::ProgressMode::off;
  StringSink sink;
  Report report;
  try {
    normalize_layer(LayerSource{LayerSource::Kind::tar, path}, o, &sink, report);
  } catch (const util::Error& e) {
    return e.what();
  }
  if (out) {
    *out = sink.bytes;
  }
  return "";
}

// The same, with the bytes written into a FIFO by another thread (a pipe: no seeking).
std::string refusal_from_fifo(const TempDir& tmp, const std::string& bytes, std::string* out = nullptr)
{
  const std::string fifo = tmp.file("fifo");
  ::unlink(fifo.c_str());
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::thread writer([&] {
    // A refusal closes the reading end early: the write then fails with EPIPE, and the SIGPIPE
    // (sent to this thread) is blocked here and dropped with it.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    util::Fd fd(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
    size_t done = 0;
    while (fd.valid() && done < bytes.size()) {
      const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
      if (n <= 0) {
        break;
      }
      done += static_cast<size_t>(n);
    }
  });
  std::string message;
  try {
    message = refusal(fifo, out);
  } catch (...) {
    writer.join();
    throw;
  }
  writer.join();
  return message;
}

// A GNU header ("ustar  " magic) of type '0' whose "realsize" field (offset 483) says realsize.
std::string gnu_header_with_realsize(const std::string& name, std::uint64_t size, std::uint64_t realsize)
{
  std::string h = header(name, '0', size);
  std::memcpy(h.data() + 257, "ustar  \0", 8);
  std::snprintf(h.data() + 483, 12, "%011llo", static_cast<unsigned long long>(realsize));
  return seal(h);
}

bool contains(const std::string& s, const std::string& part)
{
  return s.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(pax_records)

BOOST_AUTO_TEST_CASE(well_formed_records_pass)
{
  const std::string ok = record("path", "a/b") + record("mtime", "1234567890.123456789") + record("atime", "-12") +
                         record("ctime", "5.") + record("size", "000999") + record("uid", "+7") + record("gid", "0") +
                         record("SCHILY.xattr.security.selinux", std::string("ctx\0", 4)) + record("comment", "") +
                         record("mtime", "") + record("GNU.sparse.offset", "0") +
                         record("GNU.sparse.numbytes", "10") + record("GNU.sparse.offset", "20") +
                         record("GNU.sparse.numbytes", "5");
  BOOST_TEST(!check_pax_records(ok, false).has_value());
  BOOST_TEST(!check_pax_records("", false).has_value());
}

BOOST_AUTO_TEST_CASE(framing_errors_are_named)
{
  const std::pair<std::string, std::string> bad[] = {
      {" foo=bar\n", "does not start with its length"},
      {"x1 foo=bar\n", "does not start with its length"},
      {"3 =\n", "does not match"},
      {"5 =a\n\n", "empty key"},
      {"1000 foo=bar\n", "does not match"},
      {"11 foo=bar\nX", "does not start with its length"},
      {"12 foo=bar\nX", "does not end at a newline"},
      {"9 foobar\n", "without '='"},
  };
  for (const auto& [records, want] : bad) {
    const auto got = check_pax_records(records, false);
    BOOST_TEST_REQUIRE(got.has_value(), records);
    BOOST_TEST(contains(*got, want), records << " -> " << *got);
  }
}

BOOST_AUTO_TEST_CASE(nul_bytes_in_keys_and_in_path_values_are_refused)
{
  const std::string nul(1, '\0');
  BOOST_TEST(contains(check_pax_records(record("path", "a" + nul + "b"), false).value_or(""), "NUL inside the pax path"));
  BOOST_TEST(contains(check_pax_records(record("linkpath", "t" + nul), false).value_or(""), "pax linkpath"));
  BOOST_TEST(contains(check_pax_records(record("uname", nul), true).value_or(""), "pax uname"));
  BOOST_TEST(contains(check_pax_records(record("gname", "g" + nul), false).value_or(""), "pax gname"));
  BOOST_TEST(contains(check_pax_records(record("SCHILY.xattr.a" + nul, "v"), false).value_or(""), "pax key"));
}

BOOST_AUTO_TEST_CASE(unparsable_times_and_numbers_are_refused_in_per_file_headers_only)
{
  for (const char* key : {"mtime", "atime", "ctime"}) {
    for (const char* value : {"999xxx9324.4", "1748089464.951928467a", "1.2.3", "-", ".5", "1e9", " 1"}) {
      const auto got = check_pax_records(record(key, value), false);
      BOOST_TEST(contains(got.value_or(""), std::string("unparsable pax ") + key), key << "=" << value);
      BOOST_TEST(!check_pax_records(record(key, value), true).has_value(), "global " << key << "=" << value);
    }
  }
  for (const char* key : {"size", "uid", "gid"}) {
    for (const char* value : {"12abc", "1.5", "99999999999999999999", "--1"}) {
      BOOST_TEST(contains(check_pax_records(record(key, value), false).value_or(""), std::string("pax ") + key),
                 key << "=" << value);
    }
  }
  BOOST_TEST(!check_pax_records(record("mtime", "9223372036854775807"), false).has_value());
  BOOST_TEST(check_pax_records(record("mtime", "9223372036854775808"), false).has_value());
  BOOST_TEST(!check_pax_records(record("mtime", "-9223372036854775808"), false).has_value());
}

BOOST_AUTO_TEST_CASE(gnu_sparse_offset_and_numbytes_must_alternate)
{
  const auto got = check_pax_records(record("GNU.sparse.numbytes", "1") + record("GNU.sparse.offset", "0"), false);
  BOOST_TEST(contains(got.value_or(""), "out of order"));
  BOOST_TEST(check_pax_records(record("GNU.sparse.offset", "0,1"), false).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(header_chains)

BOOST_AUTO_TEST_CASE(a_fault_is_located_at_its_header_block)
{
  const std::string good = pax(record("path", "long/name"));
  const std::string bad = pax(record("mtime", "12x"));
  const auto fault = check_header_chain(good + header("L", 'L', 3) + pad("abc") + bad + header("f", '0', 0));
  BOOST_TEST_REQUIRE(fault.has_value());
  BOOST_TEST(fault->offset == good.size() + 2 * k_tar_block);
  BOOST_TEST(contains(fault->message, "unparsable pax mtime '12x'"));
  BOOST_TEST(!check_header_chain(good + header("f", '0', 0)).has_value());
}

BOOST_AUTO_TEST_CASE(a_negative_size_in_an_extension_header_is_refused)
{
  const std::string negative = std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xf0", 12);
  for (char type : {'V', 'x', 'g', 'L', 'K', 'A', 'X'}) {
    const auto fault = check_header_chain(header("v", type, 0, negative) + header("f", '0', 0));
    BOOST_TEST_REQUIRE(fault.has_value(), type);
    BOOST_TEST(fault->offset == 0u);
    BOOST_TEST(contains(fault->message, "negative size"), fault->message);
  }
  // A positive base-256 size is a size.
  std::string positive(12, '\0');
  positive[0] = static_cast<char>(0x80);
  BOOST_TEST(!check_header_chain(header("v", 'V', 0, positive) + header("f", '0', 0)).has_value());
}

BOOST_AUTO_TEST_CASE(what_libarchive_checks_or_did_not_read_is_left_alone)
{
  // The entry's own header, an end-of-archive block, a chain that ends early, and anything after a
  // volume label with a size are not judged here.
  const std::string negative = std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xf0", 12);
  BOOST_TEST(!check_header_chain(header("f", '0', 0, negative)).has_value());
  BOOST_TEST(!check_header_chain(end_of_archive() + pax(record("mtime", "x"))).has_value());
  BOOST_TEST(!check_header_chain(pax(record("mtime", "x")).substr(0, k_tar_block + 4)).has_value());
  BOOST_TEST(!check_header_chain(header("v", 'V', 1) + pax(record("mtime", "x"))).has_value());
  BOOST_TEST(check_header_chain(header("v", 'V', 0) + pax(record("mtime", "x"))).has_value());
  BOOST_TEST(!check_header_chain("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(strict_reading)

// Each fault, then a valid control, with the extension header placed so that it straddles the
// reader's blocks: the first read is 4096 bytes, the next ones 1 MiB; a long pax record spans
// several of libarchive's decompression blocks.
BOOST_AUTO_TEST_CASE(faults_are_refused_from_files_fifos_gzip_and_zstd_wherever_the_header_falls)
{
  TempDir tmp;
  const std::string nul(1, '\0');
  const std::string long_dir = std::string(150000, 'd') + "/";
  struct Fault {
    const char* what;
    std::string chain;
    std::string control;
    const char* message;
  };
  const Fault faults[] = {
      {"NUL in a pax path", pax(record("path", "dir/na" + nul + "me")), pax(record("path", "dir/name")),
       "NUL inside the pax path value"},
      {"NUL at the end of a 150 KB pax path", pax(record("path", long_dir + "x" + nul)),
       pax(record("path", long_dir + "x")), "NUL inside the pax path value"},
      {"bad pax mtime", pax(record("comment", std::string(600, 'c')) + record("mtime", "999xxx9324.5")),
       pax(record("comment", std::string(600, 'c')) + record("mtime", "9999324.5")), "unparsable pax mtime"},
      {"volume header with a negative size",
       header("label", 'V', 0, std::string("\xff\x00\x00\x00\x00\x00\x00\x20\x00\x00\x00\x00", 12)),
       header("label", 'V', 0), "GNU volume header ('V') with a negative size"},
  };
  const std::uint64_t boundary = 4096 + (1u << 20);
  for (const Fault& f : faults) {
    for (std::uint64_t at : {std::uint64_t{0}, boundary - 1024, boundary - 512, boundary, boundary + 512}) {
      // A first file whose data ends where the chain is to start (at 0: the chain comes first).
      std::string before;
      if (at > 0) {
        before = tar_file("before", std::string(static_cast<size_t>(at - 2 * k_tar_block), 'b'));
        BOOST_REQUIRE(before.size() == at - k_tar_block);
        before = tar_file("before0", "") + before;
      }
      BOOST_REQUIRE(before.size() == at);
      const std::string tail = header("entry", '0', 5) + pad("hello") + end_of_archive();
      for (bool bad : {true, false}) {
        const std::string tar = before + (bad ? f.chain : f.control) + tail;
        const std::string context = std::string(f.what) + (bad ? "" : " (control)") + " at " + std::to_string(at);
        const std::pair<std::string, std::string> forms[] = {
            {"in.tar", tar}, {"in.tar.gz", gzip(tar)}, {"in.tar.zst", zstd(tar)}};
        for (const auto& [name, bytes] : forms) {
          util::write_file_atomic(tmp.file(name), bytes);
          const std::string got = refusal(tmp.file(name));
          if (bad) {
            BOOST_TEST(contains(got, f.message), context << " " << name << ": " << got);
            BOOST_TEST(contains(got, "at tar offset " + std::to_string(at)), context << " " << name << ": " << got);
          } else {
            BOOST_TEST(got == "", context << " " << name << ": " << got);
          }
        }
        if (at == 0 || at == boundary - 512) {
          const std::string got = refusal_from_fifo(tmp, tar);
          const bool as_expected = bad ? contains(got, f.message) : got.empty();
          BOOST_TEST(as_expected, context << " from a FIFO: " << got);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(the_message_names_the_file_the_entry_and_the_offset)
{
  TempDir tmp;
  const std::string tar = tar_file("first", "1") + pax(record("path", std::string("a\0b", 3))) +
                          header("short", '0', 0) + end_of_archive();
  util::write_file_atomic(tmp.file("in.tar"), tar);
  const std::string got = refusal(tmp.file("in.tar"));
  BOOST_TEST(got == tmp.file("in.tar") + ": entry a: at tar offset 1024: NUL inside the pax path value 'a\\x00b'");
}

BOOST_AUTO_TEST_SUITE_END()

// libarchive 3.6 takes a GNU header's "realsize" field as the size of any entry, but delivers only
// the bytes the size field counts (Go's nil-uid.tar: 14 bytes stored, realsize 2176). Read from a
// file, the seek fast path used to take 2176 bytes from the file (the next entry's header), read
// from a pipe libarchive's 14 bytes and zeros: two outputs for one input (found by fuzz_normalize).
BOOST_AUTO_TEST_SUITE(stored_sizes)

BOOST_AUTO_TEST_CASE(the_stored_size_is_the_pax_size_else_the_size_field)
{
  const auto gnu = stored_data(gnu_header_with_realsize("f", 14, 2176));
  BOOST_REQUIRE(gnu.has_value());
  BOOST_TEST(gnu->size == 14u);
  BOOST_TEST(gnu->gnu_realsize);

  const auto plain = stored_data(header("f", '0', 5));
  BOOST_REQUIRE(plain.has_value());
  BOOST_TEST(plain->size == 5u);
  BOOST_TEST(!plain->gnu_realsize);

  const auto with_pax = stored_data(pax(record("size", "77")) + gnu_header_with_realsize("f", 14, 2176));
  BOOST_REQUIRE(with_pax.has_value());
  BOOST_TEST(with_pax->size == 77u);
  BOOST_TEST(!with_pax->gnu_realsize); // pax headers set libarchive's size and its data together

  BOOST_TEST(!stored_data(std::string(k_tar_block, '\0')).has_value());
  BOOST_TEST(!stored_data(pax(record("path", "only-a-pax-header"))).has_value());
}

BOOST_AUTO_TEST_CASE(a_gnu_realsize_on_a_plain_file_is_ignored_alike_from_a_file_and_a_pipe)
{
  TempDir tmp;
  const std::string tar = gnu_header_with_realsize("P1050238.JPG.log", 14, 2176) + pad("44,44,POWERON\n") +
                          tar_file("next", std::string(3000, 'n')) + end_of_archive();
  util::write_file_atomic(tmp.file("in.tar"), tar);
  std::string from_file;
  std::string from_pipe;
  BOOST_TEST(refusal(tmp.file("in.tar"), &from_file) == "");
  BOOST_TEST(refusal_from_fifo(tmp, tar, &from_pipe) == "");
  BOOST_TEST(from_file == from_pipe);
  // As GNU tar, Go and Python read it: 14 bytes, then the next entry whole.
  const std::string expected_start = "44,44,POWERON\n";
  const size_t data_at = k_tar_block; // the canonical output starts with this entry's header
  BOOST_REQUIRE(from_file.size() > data_at + k_tar_block);
  BOOST_TEST(from_file.substr(data_at, expected_start.size()) == expected_start);
  BOOST_TEST(from_file.substr(data_at + expected_start.size(), k_tar_block - expected_start.size()) ==
             std::string(k_tar_block - expected_start.size(), '\0'));
  BOOST_TEST(contains(from_file, std::string(3000, 'n')));
}

BOOST_AUTO_TEST_SUITE_END()
