// The gzip decoder (ISA-L's inflate behind our own member header and trailer reading): every
// deflate block type, any split of the input into chunks, the optional header fields, concatenated
// members and zero padding decode as zlib decodes them; a damaged header, CRC-32 or length, and a
// stream cut anywhere, are errors, never a shorter output.
#include "readers/decompress.hpp"
#include "tests/codecs.hpp"
#include "util/error.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>
#include <zlib.h>

using namespace reproimg;

// Names no other suite uses: a unity build puts several suites in one file.
namespace {

void gzdec_put32(std::string& s, std::uint32_t v)
{
  for (int i = 0; i < 4; ++i) {
    s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

// One gzip member of in; header: the 10 fixed bytes' flags and the optional fields after them.
std::string gzdec_member(const std::string& in, int level = 6, int strategy = Z_DEFAULT_STRATEGY,
                         unsigned char flags = 0, const std::string& optional = "")
{
  std::string m = std::string("\x1f\x8b\x08", 3) + static_cast<char>(flags) + std::string(5, '\0') + '\x03' + optional;
  m += test::deflate_with(in, level, strategy, -15); // raw deflate
  gzdec_put32(m, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(in.data()), static_cast<uInt>(in.size()))));
  gzdec_put32(m, static_cast<std::uint32_t>(in.size()));
  return m;
}

std::string gzdec_sample(size_t size)
{
  std::string s;
  std::uint32_t x = 12345;
  while (s.size() < size) {
    x = x * 1103515245u + 12345u;
    if ((x >> 20) % 3 == 0) {
      s += "line " + std::to_string(s.size()) + " of some text, repeated a little\n";
    } else {
      s.push_back(static_cast<char>(x >> 24));
    }
  }
  s.resize(size);
  return s;
}

// Decodes gz handed over in chunks of chunk bytes.
std::string gzdec_decode(const std::string& gz, size_t chunk)
{
  size_t pos = 0;
  auto source = [&](const unsigned char** p) -> size_t {
    const size_t n = std::min(chunk, gz.size() - pos);
    *p = reinterpret_cast<const unsigned char*>(gz.data()) + pos;
    pos += n;
    return n;
  };
  auto decoder = readers::make_decoder(readers::Codec::gzip, source, "t.gz");
  std::string out;
  std::vector<unsigned char> buf(7000);
  while (const size_t n = decoder->read(buf.data(), buf.size())) {
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
  return out;
}

std::string gzdec_error(const std::string& gz, size_t chunk)
{
  try {
    gzdec_decode(gz, chunk);
  } catch (const util::Error& e) {
    return e.what();
  }
  return "";
}

} // namespace

BOOST_AUTO_TEST_CASE(gzip_decoder_reads_every_block_type_in_any_chunking)
{
  const std::string data = gzdec_sample(300000);
  for (const auto& [level, strategy] : std::vector<std::pair<int, int>>{
           {0, Z_DEFAULT_STRATEGY}, {1, Z_FIXED}, {6, Z_DEFAULT_STRATEGY}, {9, Z_HUFFMAN_ONLY}, {6, Z_RLE}}) {
    const std::string gz = gzdec_member(data, level, strategy);
    for (const size_t chunk : {size_t{1}, size_t{7}, size_t{4096}, gz.size()}) {
      if (chunk == 1 && level != 6) {
        continue; // byte by byte is slow: once is enough
      }
      BOOST_TEST((gzdec_decode(gz, chunk) == data), "level " << level << " strategy " << strategy << " chunk " << chunk);
    }
  }
  BOOST_TEST(gzdec_decode(gzdec_member(""), 3).empty());
}

BOOST_AUTO_TEST_CASE(gzip_decoder_reads_the_optional_header_fields)
{
  const std::string data = gzdec_sample(5000);
  // FEXTRA (a length and that many bytes), FNAME, FCOMMENT, then FHCRC over all of it.
  std::string optional = std::string("\x04\x00", 2) + "abcd" + "name.tar" + '\0' + "a comment" + '\0';
  const std::string head = std::string("\x1f\x8b\x08\x1e", 4) + std::string(5, '\0') + '\x03' + optional;
  const auto hcrc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(head.data()), static_cast<uInt>(head.size())));
  std::string with_crc = optional + static_cast<char>(hcrc & 0xff) + static_cast<char>((hcrc >> 8) & 0xff);
  const std::string gz = gzdec_member(data, 6, Z_DEFAULT_STRATEGY, 0x1e, with_crc);
  BOOST_TEST(gzdec_decode(gz, 1) == data);
  BOOST_TEST(gzdec_decode(gz, gz.size()) == data);
  std::string bad = gz;
  bad[head.size()] ^= 1; // the header CRC
  BOOST_TEST(gzdec_error(bad, 5).find("header crc mismatch") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(gzip_decoder_refuses_a_damaged_trailer_or_header)
{
  const std::string data = gzdec_sample(100000);
  const std::string gz = gzdec_member(data);
  std::string crc = gz;
  crc[gz.size() - 8] ^= 1;
  BOOST_TEST(gzdec_error(crc, 4096).find("gzip data damaged: CRC-32 mismatch") != std::string::npos);
  std::string length = gz;
  length[gz.size() - 1] ^= 1;
  BOOST_TEST(gzdec_error(length, 4096).find("incorrect length check") != std::string::npos);
  std::string method = gz;
  method[2] = 7;
  BOOST_TEST(gzdec_error(method, 4096).find("unknown compression method") != std::string::npos);
  std::string flags = gz;
  flags[3] = static_cast<char>(0x20);
  BOOST_TEST(gzdec_error(flags, 4096).find("unknown header flags set") != std::string::npos);
  std::string block = gzdec_member(data, 6, Z_DEFAULT_STRATEGY);
  block[10] = static_cast<char>(block[10] | 0x06); // BTYPE 3
  BOOST_TEST(gzdec_error(block, 4096).find("gzip data damaged") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(gzip_decoder_refuses_a_stream_cut_anywhere)
{
  const std::string gz = gzdec_member(gzdec_sample(3000));
  for (size_t cut = 1; cut < gz.size(); ++cut) {
    const std::string message = gzdec_error(gz.substr(0, cut), 1 + cut % 5);
    BOOST_TEST(message.find("truncated") != std::string::npos, "cut at " << cut << ": " << message);
  }
}

BOOST_AUTO_TEST_CASE(gzip_decoder_reads_members_one_after_another_and_zero_padding)
{
  const std::string a = gzdec_sample(70000);
  const std::string b = gzdec_sample(1234);
  const std::string gz = gzdec_member(a, 1, Z_FIXED) + gzdec_member(b) + gzdec_member("") + std::string(600, '\0');
  for (const size_t chunk : {size_t{1}, size_t{9}, size_t{65536}}) {
    BOOST_TEST((gzdec_decode(gz, chunk) == a + b), "chunk " << chunk);
  }
  BOOST_TEST(gzdec_error(gz + "x", 100).find("after its zero padding") != std::string::npos);
  BOOST_TEST(gzdec_error(gzdec_member(a) + "garbage-not-a-member", 100).find("neither another gzip member") !=
             std::string::npos);
}
