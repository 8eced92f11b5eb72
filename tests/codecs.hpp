// Compression helpers for the unit suites that check what the code under test compressed (or
// feed it compressed input): one gzip member, one zstd frame, each checked to be complete.
#pragma once

#include <boost/test/unit_test.hpp>

#include <zlib.h>
#include <zstd.h>

#include <string>
#include <vector>

namespace reproimg::test {

inline std::string gunzip(const std::string& in)
{
  z_stream z{};
  BOOST_REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[65536];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    BOOST_REQUIRE_MESSAGE(rc == Z_OK || rc == Z_STREAM_END, "inflate: " << rc);
    out.append(buf, sizeof buf - z.avail_out);
  }
  BOOST_TEST(z.avail_in == 0u); // one gzip member and nothing after it
  inflateEnd(&z);
  return out;
}


// zlib's deflate of in with a level, a strategy and window_bits as deflateInit2 takes them (-15: a
// raw deflate stream; 15 + 16: one gzip member).
inline std::string deflate_with(const std::string& in, int level, int strategy, int window_bits)
{
  z_stream z{};
  BOOST_REQUIRE(deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, strategy) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(in.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  BOOST_REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string gzip(const std::string& in)
{
  return deflate_with(in, 6, Z_DEFAULT_STRATEGY, 15 + 16);
}


inline std::string unzstd(const std::string& in)
{
  ZSTD_DCtx* d = ZSTD_createDCtx();
  BOOST_REQUIRE(d);
  std::string out;
  std::vector<char> buf(ZSTD_DStreamOutSize());
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t rc = 1;
  while (input.pos < input.size) {
    ZSTD_outBuffer output{buf.data(), buf.size(), 0};
    rc = ZSTD_decompressStream(d, &output, &input);
    BOOST_REQUIRE_MESSAGE(!ZSTD_isError(rc), "zstd: " << ZSTD_getErrorName(rc));
    out.append(buf.data(), output.pos);
  }
  BOOST_TEST(rc == 0u); // the frame is complete
  ZSTD_freeDCtx(d);
  return out;
}


inline std::string zstd(const std::string& in)
{
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  BOOST_REQUIRE(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

} // namespace reproimg::test
