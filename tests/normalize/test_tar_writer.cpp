// Tests for normalize/tar_writer: the canonical header encoding, pax records, and that libarchive
// reads back every field we write.
#include "readers/tar_headers.hpp"
#include "normalize/tar_writer.hpp"
#include "tests/support.hpp"
#include "util/error.hpp"

#include <boost/test/unit_test.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>

using namespace reproimg;
using namespace reproimg::normalize;
using namespace reproimg::readers;
using reproimg::test::StringSink;

namespace {

std::string field(const std::string& block, size_t offset, size_t width)
{
  const std::string raw = block.substr(offset, width);
  return raw.substr(0, raw.find('\0'));
}

// Parses an octal field: digits, then NUL or space padding only.
std::uint64_t octal(const std::string& block, size_t offset, size_t width)
{
  std::uint64_t v = 0;
  size_t i = 0;
  for (; i < width && block[offset + i] >= '0' && block[offset + i] <= '7'; ++i) {
    v = v * 8 + static_cast<std::uint64_t>(block[offset + i] - '0');
  }
  BOOST_TEST(i > 0u, "octal field at " << offset << " has no digits");
  for (; i < width; ++i) {
    BOOST_TEST((block[offset + i] == '\0' || block[offset + i] == ' '), "octal field at " << offset << " has junk");
  }
  return v;
}

bool checksum_verifies(const std::string& block)
{
  unsigned sum = 0;
  for (size_t i = 0; i < k_tar_block; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
  }
  return octal(block, 148, 8) == sum;
}

// The header as ustar requires it: magic, version, checksum, every numeric field in octal.
void check_ustar_header(const std::string& h)
{
  BOOST_REQUIRE(h.size() == k_tar_block);
  BOOST_TEST(h.substr(257, 6) == std::string("ustar\0", 6));
  BOOST_TEST(h.substr(263, 2) == "00");
  BOOST_TEST(checksum_verifies(h));
  // Six digits, NUL, space: the form every tar writes and some readers insist on.
  BOOST_TEST(h[154] == '\0');
  BOOST_TEST(h[155] == ' ');
  for (const auto& [offset, width] : std::vector<std::pair<size_t, size_t>>{
           {100, 8}, {108, 8}, {116, 8}, {124, 12}, {136, 12}, {329, 8}, {337, 8}}) {
    BOOST_TEST(h[offset + width - 1] == '\0', "field at " << offset << " is not NUL-terminated");
    for (size_t i = 0; i + 1 < width; ++i) {
      BOOST_TEST((h[offset + i] >= '0' && h[offset + i] <= '7'), "field at " << offset << " is not zero-padded octal");
    }
  }
  BOOST_TEST(h.substr(345, 155) == std::string(155, '\0')); // no prefix: long names go to pax
  BOOST_TEST(h.substr(500, 12) == std::string(12, '\0'));
}

using Records = std::vector<std::pair<std::string, std::string>>;

// Splits pax data into records, checking each record's length prefix.
Records parse_records(const std::string& data)
{
  Records out;
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t space = data.find(' ', pos);
    BOOST_REQUIRE(space != std::string::npos);
    const size_t len = std::stoul(data.substr(pos, space - pos));
    BOOST_REQUIRE(pos + len <= data.size());
    const std::string record = data.substr(pos, len);
    BOOST_REQUIRE(record.back() == '\n');
    const size_t eq = record.find('=');
    BOOST_REQUIRE(eq != std::string::npos);
    const size_t key_start = space - pos + 1;
    out.emplace_back(record.substr(key_start, eq - key_start), record.substr(eq + 1, record.size() - eq - 2));
    pos += len;
  }
  return out;
}

struct Encoded {
  std::string pax_header; // empty if none
  Records records;
  std::string ustar;
};

// Splits encode_headers' output into the optional pax header, its records and the ustar header.
Encoded split(const std::string& headers)
{
  Encoded out;
  BOOST_REQUIRE(headers.size() % k_tar_block == 0);
  BOOST_REQUIRE(headers.size() >= k_tar_block);
  out.ustar = headers.substr(headers.size() - k_tar_block);
  check_ustar_header(out.ustar);
  if (headers.size() > k_tar_block) {
    out.pax_header = headers.substr(0, k_tar_block);
    check_ustar_header(out.pax_header);
    BOOST_TEST(out.pax_header[156] == 'x');
    const std::uint64_t size = octal(out.pax_header, 124, 12);
    const size_t padded = (size + k_tar_block - 1) / k_tar_block * k_tar_block;
    BOOST_REQUIRE(headers.size() == 2 * k_tar_block + padded);
    const std::string data = headers.substr(k_tar_block, size);
    BOOST_TEST(headers.substr(k_tar_block + size, padded - size) == std::string(padded - size, '\0'));
    out.records = parse_records(data);
  }
  return out;
}

const std::string k_absent = "<absent>";

// The value of the record with that key, or k_absent.
std::string record(const Records& records, const std::string& key)
{
  for (const auto& [k, v] : records) {
    if (k == key) {
      return v;
    }
  }
  return k_absent;
}

Entry regular(std::string path, std::uint64_t size = 0)
{
  Entry e;
  e.path = std::move(path);
  e.type = EntryType::regular;
  e.mode = 0644;
  e.size = size;
  return e;
}

} // namespace

BOOST_AUTO_TEST_SUITE(tar_header)

BOOST_AUTO_TEST_CASE(ustar_header_has_magic_checksum_and_octal_fields)
{
  Entry e = regular("etc/hosts", 1234);
  e.mode = 04755;
  e.uid = 1000;
  e.gid = 100;
  e.mtime = 1700000000;
  e.uname = "root";
  e.gname = "wheel";
  const std::string h = encode_headers(e);
  BOOST_REQUIRE(h.size() == k_tar_block);
  check_ustar_header(h);
  BOOST_TEST(field(h, 0, 100) == "etc/hosts");
  BOOST_TEST(h.substr(100, 8) == std::string("0004755\0", 8));
  BOOST_TEST(h.substr(108, 8) == std::string("0001750\0", 8));
  BOOST_TEST(h.substr(116, 8) == std::string("0000144\0", 8));
  BOOST_TEST(h.substr(124, 12) == std::string("00000002322\0", 12));
  BOOST_TEST(h.substr(136, 12) == std::string("14524770400\0", 12));
  BOOST_TEST(h[156] == '0');
  BOOST_TEST(field(h, 157, 100).empty());
  BOOST_TEST(field(h, 265, 32) == "root");
  BOOST_TEST(field(h, 297, 32) == "wheel");
  BOOST_TEST(octal(h, 329, 8) == 0u);
  BOOST_TEST(octal(h, 337, 8) == 0u);
}

BOOST_AUTO_TEST_CASE(each_type_gets_its_typeflag_and_only_regular_files_a_size)
{
  Entry dir = regular("usr/bin", 99);
  dir.type = EntryType::directory;
  dir.mode = 0755;
  const std::string d = encode_headers(dir);
  check_ustar_header(d);
  BOOST_TEST(field(d, 0, 100) == "usr/bin/");
  BOOST_TEST(d[156] == '5');
  BOOST_TEST(octal(d, 124, 12) == 0u);

  Entry sym = regular("bin", 5);
  sym.type = EntryType::symlink;
  sym.mode = 0777;
  sym.link_target = "usr/bin";
  const std::string s = encode_headers(sym);
  check_ustar_header(s);
  BOOST_TEST(s[156] == '2');
  BOOST_TEST(field(s, 157, 100) == "usr/bin");
  BOOST_TEST(octal(s, 124, 12) == 0u);

  Entry link = regular("b", 5);
  link.type = EntryType::hardlink;
  link.link_target = "a";
  const std::string l = encode_headers(link);
  check_ustar_header(l);
  BOOST_TEST(l[156] == '1');
  BOOST_TEST(field(l, 157, 100) == "a");
  BOOST_TEST(octal(l, 124, 12) == 0u);

  Entry dev = regular("dev/null");
  dev.type = EntryType::chardev;
  dev.mode = 0666;
  dev.devmajor = 1;
  dev.devminor = 3;
  const std::string c = encode_headers(dev);
  check_ustar_header(c);
  BOOST_TEST(c[156] == '3');
  BOOST_TEST(octal(c, 329, 8) == 1u);
  BOOST_TEST(octal(c, 337, 8) == 3u);

  dev.type = EntryType::blockdev;
  dev.devmajor = 8;
  dev.devminor = 0377;
  const std::string b = encode_headers(dev);
  BOOST_TEST(b[156] == '4');
  BOOST_TEST(octal(b, 329, 8) == 8u);
  BOOST_TEST(octal(b, 337, 8) == 0377u);

  Entry fifo = regular("run/initctl");
  fifo.type = EntryType::fifo;
  fifo.devmajor = 5; // not a device: not written
  const std::string f = encode_headers(fifo);
  BOOST_TEST(f[156] == '6');
  BOOST_TEST(octal(f, 329, 8) == 0u);
}

BOOST_AUTO_TEST_CASE(a_header_is_independent_of_everything_but_the_entry)
{
  Entry e = regular("a", 1);
  e.content = {ContentRef::Where::spool, 12345};
  Entry f = e;
  f.content = {};
  BOOST_TEST(encode_headers(e) == encode_headers(f));
}

BOOST_AUTO_TEST_CASE(a_path_of_100_bytes_fits_and_101_takes_a_pax_path_record)
{
  const std::string p100 = std::string(50, 'a') + "/" + std::string(49, 'b');
  BOOST_REQUIRE(p100.size() == 100u);
  const std::string fits = encode_headers(regular(p100));
  BOOST_TEST(fits.size() == k_tar_block);
  BOOST_TEST(fits.substr(0, 100) == p100);

  // A directory of 100 bytes becomes 101 with its slash.
  Entry dir = regular(p100);
  dir.type = EntryType::directory;
  const Encoded d = split(encode_headers(dir));
  BOOST_REQUIRE(!d.pax_header.empty());
  BOOST_TEST(record(d.records, "path") == p100 + "/");
}

BOOST_AUTO_TEST_CASE(a_long_path_gets_a_pax_header_with_a_fixed_name_and_a_path_record)
{
  const std::string path = "usr/share/" + std::string(200, 'x') + "/file.txt";
  Entry e = regular(path, 10);
  e.mtime = 5;
  const std::string headers = encode_headers(e);
  const Encoded enc = split(headers);
  BOOST_REQUIRE(!enc.pax_header.empty());
  BOOST_TEST(field(enc.pax_header, 0, 100) == "././@PaxHeader");
  BOOST_TEST(enc.pax_header[156] == 'x');
  BOOST_TEST(octal(enc.pax_header, 136, 12) == 0u); // no time of its own
  BOOST_TEST(field(enc.pax_header, 265, 32).empty());
  BOOST_TEST((enc.records == Records{{"path", path}}));
  BOOST_TEST(octal(enc.ustar, 124, 12) == 10u);
  BOOST_TEST(octal(enc.ustar, 136, 12) == 5u);
  // Same path, same bytes: nothing in the pax header depends on the call.
  BOOST_TEST(encode_headers(e) == headers);
}

BOOST_AUTO_TEST_CASE(long_path_and_link_records_take_hdrcharset_binary_only_when_not_ascii)
{
  const std::string ascii = std::string(120, 'a');
  const Encoded plain = split(encode_headers(regular(ascii)));
  BOOST_TEST(record(plain.records, "hdrcharset") == k_absent);

  const std::string latin1 = std::string(120, 'a') + "/caf\xe9";
  const Encoded binary = split(encode_headers(regular(latin1)));
  BOOST_TEST(record(binary.records, "hdrcharset") == "BINARY");
  BOOST_TEST(record(binary.records, "path") == latin1);

  Entry sym = regular("link");
  sym.type = EntryType::symlink;
  sym.link_target = std::string(150, 'b') + "\xc3\xa9";
  const Encoded link = split(encode_headers(sym));
  BOOST_TEST(record(link.records, "linkpath") == sym.link_target);
  BOOST_TEST(record(link.records, "hdrcharset") == "BINARY");

  // A short non-ASCII name fits the ustar field as raw bytes: no pax header at all.
  const std::string short_name = "caf\xc3\xa9";
  const std::string h = encode_headers(regular(short_name));
  BOOST_TEST(h.size() == k_tar_block);
  BOOST_TEST(field(h, 0, 100) == short_name);
}

BOOST_AUTO_TEST_CASE(ids_above_the_octal_field_go_to_pax_records)
{
  Entry e = regular("f");
  e.uid = 2097151; // 07777777: the largest that fits
  e.gid = 2097151;
  BOOST_TEST(encode_headers(e).size() == k_tar_block);

  e.uid = 2097152;
  e.gid = 4000000000;
  const Encoded enc = split(encode_headers(e));
  BOOST_TEST(record(enc.records, "uid") == "2097152");
  BOOST_TEST(record(enc.records, "gid") == "4000000000");
  BOOST_TEST(octal(enc.ustar, 108, 8) == 0u);
  BOOST_TEST(octal(enc.ustar, 116, 8) == 0u);
  BOOST_TEST(record(enc.records, "path") == k_absent);

  e.uid = 2097152;
  e.gid = 0;
  const Encoded uid_only = split(encode_headers(e));
  BOOST_TEST((uid_only.records == Records{{"uid", "2097152"}}));
}

BOOST_AUTO_TEST_CASE(sizes_of_8_gib_and_more_go_to_a_size_record)
{
  const std::uint64_t max_octal = (std::uint64_t{1} << 33) - 1;
  const std::string fits = encode_headers(regular("big", max_octal));
  BOOST_TEST(fits.size() == k_tar_block);
  BOOST_TEST(fits.substr(124, 12) == std::string("77777777777\0", 12));

  const Encoded enc = split(encode_headers(regular("big", max_octal + 1)));
  BOOST_TEST((enc.records == Records{{"size", "8589934592"}}));
  BOOST_TEST(octal(enc.ustar, 124, 12) == 0u);
}

BOOST_AUTO_TEST_CASE(negative_and_huge_mtimes_go_to_an_mtime_record)
{
  Entry e = regular("old");
  e.mtime = -1;
  const Encoded neg = split(encode_headers(e));
  BOOST_TEST((neg.records == Records{{"mtime", "-1"}}));
  BOOST_TEST(octal(neg.ustar, 136, 12) == 0u);

  e.mtime = (std::int64_t{1} << 33) - 1;
  BOOST_TEST(encode_headers(e).size() == k_tar_block);
  e.mtime = std::int64_t{1} << 33;
  const Encoded huge = split(encode_headers(e));
  BOOST_TEST((huge.records == Records{{"mtime", "8589934592"}}));

  e.mtime = 0;
  BOOST_TEST(encode_headers(e).size() == k_tar_block);
}

BOOST_AUTO_TEST_CASE(long_owner_names_go_to_pax_records)
{
  Entry e = regular("f");
  e.uname = std::string(31, 'u');
  e.gname = std::string(31, 'g');
  BOOST_TEST(encode_headers(e).size() == k_tar_block);
  e.uname = std::string(32, 'u');
  e.gname = std::string(40, 'g');
  const Encoded enc = split(encode_headers(e));
  BOOST_TEST(record(enc.records, "uname") == e.uname);
  BOOST_TEST(record(enc.records, "gname") == e.gname);
}

BOOST_AUTO_TEST_CASE(xattrs_become_schily_records_sorted_by_name_with_binary_values)
{
  Entry e = regular("usr/bin/ping");
  const std::string cap("\x01\x00\x00\x02\x00\x20\x00\x00\n=\xff", 11);
  e.xattrs = {{"user.b", "2"}, {"security.capability", cap}, {"user.a", ""}};
  const Encoded enc = split(encode_headers(e));
  BOOST_TEST((enc.records == Records{{"SCHILY.xattr.security.capability", cap},
                                     {"SCHILY.xattr.user.a", ""},
                                     {"SCHILY.xattr.user.b", "2"}}));
}

BOOST_AUTO_TEST_CASE(all_pax_records_come_in_key_order)
{
  Entry e = regular(std::string(150, 'p') + "\xe9");
  e.uid = 1u << 30;
  e.mtime = -5;
  e.xattrs = {{"security.capability", "c"}};
  const Encoded enc = split(encode_headers(e));
  std::vector<std::string> keys;
  for (const auto& r : enc.records) {
    keys.push_back(r.first);
  }
  BOOST_TEST((keys == std::vector<std::string>{"SCHILY.xattr.security.capability", "hdrcharset", "mtime", "path", "uid"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pax_records)

BOOST_AUTO_TEST_CASE(record_length_counts_itself_across_digit_boundaries)
{
  // key "k" and a value of n bytes: the record without its length is n + 4 bytes.
  struct Case {
    size_t value_size;
    size_t total;
  };
  // 8 bytes + 1 digit = 9; 9 bytes + 1 digit = 10 would need 2 digits, so 11 (a total of 10 is
  // impossible); likewise 99, then 101 and 102 around three digits, 999 then 1001.
  const Case cases[] = {{4, 9}, {5, 11}, {6, 12}, {93, 99}, {94, 101}, {95, 102}, {96, 103},
                        {992, 999}, {993, 1001}, {994, 1002}};
  for (const Case& c : cases) {
    const std::string r = pax_record("k", std::string(c.value_size, 'v'));
    BOOST_TEST(r.size() == c.total, "value of " << c.value_size);
    BOOST_TEST(r.substr(0, r.find(' ')) == std::to_string(c.total), "value of " << c.value_size);
    BOOST_TEST(r == std::to_string(c.total) + " k=" + std::string(c.value_size, 'v') + "\n");
  }
}

BOOST_AUTO_TEST_CASE(every_record_length_up_to_five_digits_is_self_consistent)
{
  for (size_t n = 0; n < 20000; ++n) {
    const std::string r = pax_record("path", std::string(n, 'x'));
    const size_t space = r.find(' ');
    BOOST_REQUIRE(space != std::string::npos);
    if (r.size() != std::stoul(r.substr(0, space))) {
      BOOST_FAIL("record for a value of " << n << " bytes says " << r.substr(0, space) << " but has " << r.size());
    }
  }
}

BOOST_AUTO_TEST_CASE(values_are_written_verbatim)
{
  const std::string value("a\nb=c\0d", 7);
  BOOST_TEST(pax_record("SCHILY.xattr.user.x", value) == "31 SCHILY.xattr.user.x=" + value + "\n");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tar_writer)

BOOST_AUTO_TEST_CASE(data_is_padded_to_blocks_and_the_archive_ends_with_exactly_two_zero_blocks)
{
  StringSink sink;
  CanonicalTarWriter w(sink);
  Entry e = regular("a", 5);
  w.begin_entry(e);
  w.write_data("he", 2);
  w.write_data("llo", 3);
  w.end_entry();
  Entry empty = regular("b", 0);
  w.begin_entry(empty);
  w.end_entry();
  w.finish();
  BOOST_TEST(sink.finished == 1);
  BOOST_TEST(sink.bytes.size() == 3 * k_tar_block + 2 * k_tar_block);
  BOOST_TEST(w.bytes_written() == sink.bytes.size());
  BOOST_TEST(sink.bytes.substr(k_tar_block, 5) == "hello");
  BOOST_TEST(sink.bytes.substr(k_tar_block + 5, k_tar_block - 5) == std::string(k_tar_block - 5, '\0'));
  BOOST_TEST(sink.bytes.substr(2 * k_tar_block, k_tar_block) == encode_headers(empty));
  BOOST_TEST(sink.bytes.substr(3 * k_tar_block) == std::string(2 * k_tar_block, '\0'));
}

BOOST_AUTO_TEST_CASE(content_longer_or_shorter_than_the_size_throws_naming_the_entry)
{
  StringSink sink;
  CanonicalTarWriter w(sink);
  w.begin_entry(regular("etc/long", 3));
  try {
    w.write_data("abcd", 4);
    BOOST_FAIL("writing past the size did not throw");
  } catch (const util::Error& err) {
    BOOST_TEST(std::string(err.what()).find("etc/long") != std::string::npos, err.what());
  }
  CanonicalTarWriter w2(sink);
  w2.begin_entry(regular("etc/short", 3));
  w2.write_data("ab", 2);
  try {
    w2.end_entry();
    BOOST_FAIL("ending a short entry did not throw");
  } catch (const util::Error& err) {
    BOOST_TEST(std::string(err.what()).find("etc/short") != std::string::npos, err.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(libarchive_round_trip)

namespace {

struct ArchiveReader {
  explicit ArchiveReader(const std::string& bytes) : a(archive_read_new())
  {
    archive_read_support_format_tar(a);
    BOOST_REQUIRE(archive_read_open_memory(a, bytes.data(), bytes.size()) == ARCHIVE_OK);
  }
  ~ArchiveReader() { archive_read_free(a); }
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;

  // The next entry; fails the test on anything but ARCHIVE_OK.
  archive_entry* next()
  {
    archive_entry* e = nullptr;
    const int rc = archive_read_next_header(a, &e);
    const char* err = archive_error_string(a);
    BOOST_REQUIRE_MESSAGE(rc == ARCHIVE_OK, "archive_read_next_header: " << rc << " " << (err ? err : ""));
    return e;
  }
  std::string data()
  {
    std::string out;
    char buf[4096];
    for (;;) {
      const la_ssize_t n = archive_read_data(a, buf, sizeof buf);
      BOOST_REQUIRE(n >= 0);
      if (n == 0) {
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  bool at_end()
  {
    archive_entry* e = nullptr;
    return archive_read_next_header(a, &e) == ARCHIVE_EOF;
  }

  archive* a;
};

std::string str(const char* s)
{
  return s ? s : "";
}

std::vector<std::pair<std::string, std::string>> xattrs_of(archive_entry* e)
{
  std::vector<std::pair<std::string, std::string>> out;
  archive_entry_xattr_reset(e);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    out.emplace_back(name, std::string(static_cast<const char*>(value), size));
  }
  // libarchive lists them in reverse order of reading; the record order is tested on the bytes.
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

BOOST_AUTO_TEST_CASE(libarchive_reads_back_every_field_we_write)
{
  std::vector<Entry> entries;
  Entry file = regular("etc/passwd", 11);
  file.mode = 0640;
  file.uid = 12;
  file.gid = 34;
  file.mtime = 1234567890;
  file.uname = "someone";
  file.gname = "group";
  entries.push_back(file);

  Entry dir = regular("etc");
  dir.type = EntryType::directory;
  dir.mode = 01777;
  entries.push_back(dir);

  Entry sym = regular("lib");
  sym.type = EntryType::symlink;
  sym.mode = 0777;
  sym.link_target = "usr/lib";
  entries.push_back(sym);

  Entry hard = regular("etc/passwd-");
  hard.type = EntryType::hardlink;
  hard.link_target = "etc/passwd";
  entries.push_back(hard);

  Entry chr = regular("dev/tty");
  chr.type = EntryType::chardev;
  chr.mode = 0620;
  chr.devmajor = 5;
  chr.devminor = 0;
  entries.push_back(chr);

  Entry blk = regular("dev/sda1");
  blk.type = EntryType::blockdev;
  blk.mode = 0660;
  blk.devmajor = 8;
  blk.devminor = 1;
  entries.push_back(blk);

  Entry fifo = regular("run/fifo");
  fifo.type = EntryType::fifo;
  entries.push_back(fifo);

  Entry long_path = regular(std::string(150, 'd') + "/\xe6\x97\xa5\xe6\x9c\xac/caf\xe9", 3); // UTF-8 and Latin-1
  long_path.uid = 3000000;
  long_path.gid = 4000000;
  long_path.mtime = -86400;
  long_path.uname = std::string(40, 'n');
  entries.push_back(long_path);

  Entry long_link = regular("long-link");
  long_link.type = EntryType::symlink;
  long_link.link_target = "/" + std::string(200, 't');
  long_link.mtime = std::int64_t{1} << 34;
  entries.push_back(long_link);

  Entry exact = regular(std::string(99, 'e') + "x"); // fills the name field: no NUL after it
  exact.type = EntryType::symlink;
  exact.link_target = std::string(99, 't') + "y";
  entries.push_back(exact);

  Entry caps = regular("usr/bin/ping", 0);
  caps.mode = 0755;
  caps.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8)}, {"user.z", "x\ny"}};
  entries.push_back(caps);

  StringSink sink;
  CanonicalTarWriter w(sink);
  for (const Entry& e : entries) {
    w.begin_entry(e);
    if (e.path == "etc/passwd") {
      w.write_data("root:x:0:0\n", 11);
    } else if (e.path == long_path.path) {
      w.write_data("abc", 3);
    }
    w.end_entry();
  }
  w.finish();

  ArchiveReader r(sink.bytes);
  archive_entry* e = r.next();
  BOOST_TEST(str(archive_entry_pathname(e)) == "etc/passwd");
  BOOST_TEST(archive_entry_filetype(e) == static_cast<unsigned>(AE_IFREG));
  BOOST_TEST(archive_entry_perm(e) == 0640u);
  BOOST_TEST(archive_entry_uid(e) == 12);
  BOOST_TEST(archive_entry_gid(e) == 34);
  BOOST_TEST(archive_entry_mtime(e) == 1234567890);
  BOOST_TEST(archive_entry_mtime_nsec(e) == 0);
  BOOST_TEST(!archive_entry_atime_is_set(e));
  BOOST_TEST(!archive_entry_ctime_is_set(e));
  BOOST_TEST(str(archive_entry_uname(e)) == "someone");
  BOOST_TEST(str(archive_entry_gname(e)) == "group");
  BOOST_TEST(archive_entry_size(e) == 11);
  BOOST_TEST(r.data() == "root:x:0:0\n");

  e = r.next();
  BOOST_TEST(str(archive_entry_pathname(e)) == "etc/");
  BOOST_TEST(archive_entry_filetype(e) == static_cast<unsigned>(AE_IFDIR));
  BOOST_TEST(archive_entry_perm(e) == 01777u);

  e = r.next();
  BOOST_TEST(str(archive_entry_pathname(e)) == "lib");
  BOOST_TEST(archive_entry_filetype(e) == static_cast<unsigned>(AE_IFLNK));
  BOOST_TEST(str(archive_entry_symlink(e)) == "usr/lib");

  e = r.next();
  BOOST_TEST(str(archive_entry_pathname(e)) == "etc/passwd-");
  BOOST_TEST(str(archive_entry_hardlink(e)) == "etc/passwd");
  BOOST_TEST(archive_entry_size(e) == 0);

  e = r.next();
  BOOST_TEST(archive_entry_filetype(e) == static_cast<unsigned>(AE_IFCHR));
  BOOST_TEST(archive_entry_rdevmajor(e) == 5u);
  BOOST_TEST(archive_entry_rdevminor(e) == 0u);
  BOOST_TEST(archive_entry_perm(e) == 0620u);

  e = r.next();
  BOOST_TEST(archive_entry_filetype(e) == static_cast<unsigned>(AE_IFBLK));
  BOOST_TEST(archive_entry_rdevmajor(e) == 8u);
  BOOST_TEST(archive_entry_rdevminor(e) == 1u);

  e = r.next();
  BOOST_TEST(str(archive_entry_pathname(e)) == "run/fifo");
  BOOST_TEST(archive_entry_filetype(e) == static_cast<unsigned>(AE_IFIFO));

  e = r.next();
  BOOST_TEST(str(archive_entry_pathname(e)) == long_path.path); // raw bytes, whatever the locale
  BOOST_TEST(archive_entry_uid(e) == 3000000);
  BOOST_TEST(archive_entry_gid(e) == 4000000);
  BOOST_TEST(archive_entry_mtime(e) == -86400);
  BOOST_TEST(str(archive_entry_uname(e)) == long_path.uname);
  BOOST_TEST(archive_entry_size(e) == 3);
  BOOST_TEST(r.data() == "abc");

  e = r.next();
  BOOST_TEST(str(archive_entry_symlink(e)) == long_link.link_target);
  BOOST_TEST(archive_entry_mtime(e) == std::int64_t{1} << 34);

  e = r.next();
  BOOST_TEST(str(archive_entry_pathname(e)) == exact.path);
  BOOST_TEST(str(archive_entry_symlink(e)) == exact.link_target);

  e = r.next();
  BOOST_TEST(str(archive_entry_pathname(e)) == "usr/bin/ping");
  BOOST_TEST((xattrs_of(e) == std::vector<std::pair<std::string, std::string>>(caps.xattrs.begin(), caps.xattrs.end())));

  BOOST_TEST(r.at_end());
}

BOOST_AUTO_TEST_CASE(libarchive_reads_a_size_record_beyond_8_gib)
{
  // Headers only: the content is never read, so it need not be there.
  Entry big = regular("huge.img", (std::uint64_t{1} << 33) + 7);
  const std::string bytes = encode_headers(regular("small")) + encode_headers(big);
  ArchiveReader r(bytes);
  r.next();
  archive_entry* e = r.next();
  BOOST_TEST(str(archive_entry_pathname(e)) == "huge.img");
  BOOST_TEST(archive_entry_size(e) == static_cast<la_int64_t>((std::uint64_t{1} << 33) + 7));
}

BOOST_AUTO_TEST_SUITE_END()
