// Deterministic gzip (zlib) and zstd sinks.
#include "normalize/compress.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <zlib.h>
#include <zstd.h>

namespace reproimg::normalize {

namespace {

constexpr size_t k_out_chunk = 1 << 18;

class GzipSink : public util::ByteSink {
public:
  explicit GzipSink(util::ByteSink& next) : m_next(next), m_out(k_out_chunk)
  {
    std::memset(&m_z, 0, sizeof m_z);
    // 15 + 16: gzip wrapper. The header zlib writes has mtime 0, no name, XFL 0 and OS set below.
    if (deflateInit2(&m_z, k_gzip_level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw util::Error("zlib: cannot initialise the gzip compressor");
    }
    std::memset(&m_header, 0, sizeof m_header);
    m_header.time = 0;
    m_header.os = 255; // "unknown": the same on every build host
    deflateSetHeader(&m_z, &m_header);
  }
  ~GzipSink() override { deflateEnd(&m_z); }
  GzipSink(const GzipSink&) = delete;
  GzipSink& operator=(const GzipSink&) = delete;

  void write(const void* data, size_t size) override
  {
    const auto* p = static_cast<const unsigned char*>(data);
    while (size > 0) {
      const uInt n = size > (1u << 30) ? (1u << 30) : static_cast<uInt>(size);
      m_z.next_in = const_cast<Bytef*>(p);
      m_z.avail_in = n;
      run(Z_NO_FLUSH);
      p += n;
      size -= n;
    }
  }
  void finish() override
  {
    m_z.next_in = nullptr;
    m_z.avail_in = 0;
    run(Z_FINISH);
    m_next.finish();
  }

private:
  void run(int flush)
  {
    for (;;) {
      m_z.next_out = m_out.data();
      m_z.avail_out = static_cast<uInt>(m_out.size());
      const int rc = deflate(&m_z, flush);
      if (rc == Z_STREAM_ERROR) {
        throw util::Error("zlib: compression failed");
      }
      const size_t produced = m_out.size() - m_z.avail_out;
      if (produced > 0) {
        m_next.write(m_out.data(), produced);
      }
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (m_z.avail_in == 0 && m_z.avail_out != 0)) {
        break;
      }
    }
  }

  util::ByteSink& m_next;
  z_stream m_z;
  gz_header m_header;
  std::vector<unsigned char> m_out;
};

class ZstdSink : public util::ByteSink {
public:
  explicit ZstdSink(util::ByteSink& next) : m_next(next), m_ctx(ZSTD_createCCtx()), m_out(ZSTD_CStreamOutSize())
  {
    if (!m_ctx) {
      throw util::Error("zstd: cannot create a compression context");
    }
    // Pinned: level, single-threaded (nbWorkers 0), no content size (a stream has none),
    // a checksum as the zstd CLI writes.
    check(ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_compressionLevel, k_zstd_level));
    check(ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_nbWorkers, 0));
    check(ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_contentSizeFlag, 0));
    check(ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_checksumFlag, 1));
  }
  ~ZstdSink() override { ZSTD_freeCCtx(m_ctx); }
  ZstdSink(const ZstdSink&) = delete;
  ZstdSink& operator=(const ZstdSink&) = delete;

  void write(const void* data, size_t size) override
  {
    ZSTD_inBuffer in{data, size, 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer out{m_out.data(), m_out.size(), 0};
      check(ZSTD_compressStream2(m_ctx, &out, &in, ZSTD_e_continue));
      if (out.pos > 0) {
        m_next.write(m_out.data(), out.pos);
      }
    }
  }
  void finish() override
  {
    ZSTD_inBuffer in{nullptr, 0, 0};
    size_t remaining = 0;
    do {
      ZSTD_outBuffer out{m_out.data(), m_out.size(), 0};
      remaining = check(ZSTD_compressStream2(m_ctx, &out, &in, ZSTD_e_end));
      if (out.pos > 0) {
        m_next.write(m_out.data(), out.pos);
      }
    } while (remaining != 0);
    m_next.finish();
  }

private:
  static size_t check(size_t rc)
  {
    if (ZSTD_isError(rc)) {
      throw util::Error(std::string("zstd: ") + ZSTD_getErrorName(rc));
    }
    return rc;
  }

  util::ByteSink& m_next;
  ZSTD_CCtx* m_ctx;
  std::vector<unsigned char> m_out;
};

} // namespace

std::unique_ptr<util::ByteSink> make_compressor(Compression c, util::ByteSink& next)
{
  switch (c) {
  case Compression::none: return nullptr;
  case Compression::gzip: return std::make_unique<GzipSink>(next);
  case Compression::zstd: return std::make_unique<ZstdSink>(next);
  }
  return nullptr;
}

std::string compressor_version(Compression c)
{
  switch (c) {
  case Compression::none: return "";
  case Compression::gzip: return std::string("zlib ") + zlibVersion();
  case Compression::zstd: return std::string("zstd ") + ZSTD_versionString();
  }
  return "";
}

} // namespace reproimg::normalize
