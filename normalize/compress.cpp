// The compressor sinks: parallel deterministic gzip (parallel_gzip.cpp) and zstd in libzstd's worker
// mode, whose frame is the same for any worker count of 1 or more.
#include "normalize/compress.hpp"

#include "normalize/parallel_gzip.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <zlib.h>
#include <zstd.h>

namespace reproimg::normalize {

namespace {

class ZstdSink : public util::ByteSink {
public:
  ZstdSink(util::ByteSink& next, unsigned threads)
      : m_next(next), m_ctx(ZSTD_createCCtx()), m_out(ZSTD_CStreamOutSize())
  {
    if (!m_ctx) {
      throw util::Error("zstd: cannot create a compression context");
    }
    // Pinned: level, worker mode (nbWorkers >= 1: libzstd cuts the stream into jobs of a size
    // fixed by the parameters, so the frame is the same for 1 worker or 8; 0 would be another
    // frame), no content size (a stream has none), a checksum as the zstd CLI writes.
    check(ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_compressionLevel, k_zstd_level));
    const size_t workers = ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_nbWorkers, static_cast<int>(std::max(threads, 1u)));
    if (ZSTD_isError(workers)) {
      throw util::Error("zstd: the linked libzstd has no worker mode (built without multithreading); "
                        "its frames would not be the canonical ones");
    }
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

std::unique_ptr<util::ByteSink> make_compressor(Compression c, util::ByteSink& next, unsigned threads)
{
  switch (c) {
  case Compression::none: return nullptr;
  case Compression::gzip: return make_parallel_gzip(next, threads);
  case Compression::zstd: return std::make_unique<ZstdSink>(next, threads);
  }
  return nullptr;
}

CompressorLibrary compressor_library(Compression c)
{
  switch (c) {
  case Compression::none: return {};
  case Compression::gzip: return {"zlib", zlibVersion()};
  case Compression::zstd: return {"zstd", ZSTD_versionString()};
  }
  return {};
}

std::string compressor_version(Compression c)
{
  const CompressorLibrary library = compressor_library(c);
  return library.name.empty() ? "" : library.name + " " + library.version;
}

} // namespace reproimg::normalize
