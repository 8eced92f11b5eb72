// gzip (ISA-L's igzip), bzip2 (libbz2), xz (liblzma) and zstd (libzstd) decoders with strict ends.
#include "readers/decompress.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <bzlib.h>
#include <cstring>
#include <exception>
#include <utility>
#include <lzma.h>
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <zstd.h>

namespace reproimg::readers {

const char* codec_name(Codec c)
{
  switch (c) {
  case Codec::none: return "none";
  case Codec::gzip: return "gzip";
  case Codec::bzip2: return "bzip2";
  case Codec::xz: return "xz";
  case Codec::zstd: return "zstd";
  }
  return "none";
}

CodecMagic sniff_codec(const unsigned char* p, size_t n, bool at_end)
{
  auto starts = [&](std::initializer_list<unsigned char> m) {
    return n >= m.size() && std::equal(m.begin(), m.end(), p);
  };
  if (starts({0x1f, 0x8b})) return {"gzip", Codec::gzip};
  if (starts({'B', 'Z', 'h'})) return {"bzip2", Codec::bzip2};
  if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) return {"xz", Codec::xz};
  if (starts({0x28, 0xb5, 0x2f, 0xfd})) return {"zstd", Codec::zstd};
  // A zstd skippable frame (magic 0x184D2A5?, then a 32-bit little-endian length), as some
  // writers put first: zstd only if a real frame follows it.
  if (n >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18) {
    const CodecMagic no_frame{"a zstd skippable frame with no frame after it", Codec::none, false};
    if (n < 8) {
      return at_end ? no_frame : CodecMagic{"zstd", Codec::zstd};
    }
    const std::uint64_t len = p[4] | (p[5] << 8) | (p[6] << 16) | (std::uint64_t{p[7]} << 24);
    const std::uint64_t next = 8 + len;
    if (next + 4 <= n) {
      const bool frame = p[next] == 0x28 && p[next + 1] == 0xb5 && p[next + 2] == 0x2f && p[next + 3] == 0xfd;
      return frame ? CodecMagic{"zstd", Codec::zstd} : no_frame;
    }
    return at_end ? no_frame : CodecMagic{"zstd", Codec::zstd};
  }
  if (starts({0x1f, 0x9d})) return {"compress (.Z)", Codec::none, false};
  if (starts({0x04, 0x22, 0x4d, 0x18})) return {"lz4", Codec::none, false};
  if (starts({'L', 'Z', 'I', 'P'})) return {"lzip", Codec::none, false};
  return {"none", Codec::none};
}

namespace {

// The compressed input as the decoders see it: the current chunk, pulled from the source on demand.
class DecoderBase : public Decoder {
public:
  DecoderBase(Codec codec, ChunkSource source, std::string name)
      : m_codec(codec), m_source(std::move(source)), m_name(std::move(name))
  {
  }
  std::uint64_t consumed() const override { return m_taken - m_avail; }

  // What came out before a damaged or missing part is handed over first, and the error thrown
  // by the next read: the reader then knows which entry the damage is in (the one whose bytes
  // it asks for next), not one that ended up to a buffer earlier.
  size_t read(unsigned char* out, size_t capacity) final
  {
    if (m_deferred) {
      std::rethrow_exception(std::exchange(m_deferred, nullptr));
    }
    m_produced = 0;
    try {
      return decode(out, capacity);
    } catch (const util::Error&) {
      if (m_produced == 0) {
        throw;
      }
      m_deferred = std::current_exception();
      return m_produced;
    }
  }

protected:
  // read() without the deferral; sets m_produced as output is made.
  virtual size_t decode(unsigned char* out, size_t capacity) = 0;

  // Makes input available; false at the end of the input.
  bool fill()
  {
    if (m_avail > 0) {
      return true;
    }
    if (m_input_ended) {
      return false;
    }
    const unsigned char* chunk = nullptr;
    const size_t n = m_source(&chunk);
    if (n == 0) {
      m_input_ended = true;
      return false;
    }
    m_next = chunk;
    m_avail = n;
    m_taken += n;
    return true;
  }
  void take(size_t n)
  {
    m_next += n;
    m_avail -= n;
  }
  [[noreturn]] void fail(const std::string& message) const { fail_at(consumed(), message); }
  [[noreturn]] void fail_at(std::uint64_t offset, const std::string& message) const
  {
    throw util::Error(util::Location{m_name, std::nullopt, static_cast<std::int64_t>(offset)},
                      std::string(codec_name(m_codec)) + " data " + message);
  }
  [[noreturn]] void fail_truncated() const
  {
    fail("truncated: the input ends before the end of the compressed stream (a partial download or copy?)");
  }
  // After the last gzip member or bzip2 stream: zero bytes up to the end are padding. Returns
  // true when the input ended (only zeros seen), false when a non-zero byte follows no padding
  // (the caller decodes it as the next member); a non-zero byte after padding is an error.
  bool only_padding_follows()
  {
    bool padded = false;
    while (fill()) {
      size_t zeros = 0;
      while (zeros < m_avail && m_next[zeros] == 0) {
        ++zeros;
      }
      take(zeros);
      padded = padded || zeros > 0;
      if (m_avail > 0) {
        if (padded) {
          fail("followed by other bytes after its zero padding");
        }
        return false;
      }
    }
    return true;
  }

  Codec m_codec;
  ChunkSource m_source;
  std::string m_name;
  const unsigned char* m_next = nullptr;
  size_t m_avail = 0;
  std::uint64_t m_taken = 0;
  bool m_input_ended = false;
  bool m_done = false;
  size_t m_produced = 0; // bytes decoded into the current read's buffer
  std::exception_ptr m_deferred;
};

// gzip: the members' headers and trailers are read here (RFC 1952), their deflate streams decoded
// by ISA-L's igzip (about twice zlib's inflate speed on layers), the CRC-32 with its carry-less
// multiply kernel. What is accepted and the messages are zlib's (inflate with windowBits 15 + 16).
class GzipDecoder : public DecoderBase {
public:
  GzipDecoder(ChunkSource source, std::string name) : DecoderBase(Codec::gzip, std::move(source), std::move(name))
  {
    m_state = std::make_unique<inflate_state>();
    isal_inflate_init(m_state.get());
  }

  size_t decode(unsigned char* out, size_t capacity) override
  {
    if (m_done || capacity == 0) {
      return 0;
    }
    const auto room = static_cast<std::uint32_t>(std::min<size_t>(capacity, 1u << 30));
    size_t made = 0;
    while (made < room) {
      if (m_phase == Phase::between) {
        if (made > 0) {
          break; // hand over what this member gave first
        }
        if (m_members > 0 && only_padding_follows()) {
          m_done = true;
          break;
        }
        start_member();
      }
      if (m_phase == Phase::header) {
        read_header();
      }
      if (m_phase == Phase::body) {
        m_produced = made;
        made += inflate_some(out + made, static_cast<std::uint32_t>(room - made));
        m_produced = made;
      }
      if (m_phase == Phase::trailer) {
        read_trailer();
      }
    }
    return made;
  }

private:
  enum class Phase { between, header, body, trailer };

  void start_member()
  {
    m_member_start = consumed();
    isal_inflate_reset(m_state.get());
    m_state->crc_flag = ISAL_DEFLATE;
    m_crc = 0;
    m_size = 0;
    m_phase = Phase::header;
  }

  // The next compressed byte; the input ending inside a member is a truncation.
  unsigned char next_byte()
  {
    if (!fill()) {
      fail_truncated();
    }
    const unsigned char b = *m_next;
    take(1);
    return b;
  }

  [[noreturn]] void header_error(const std::string& why) const
  {
    if (m_members > 0) {
      fail_at(m_member_start, "is followed by bytes that are neither another gzip member nor zero padding (" + why + ")");
    }
    fail("damaged: " + why);
  }

  void read_header()
  {
    unsigned char h[10];
    for (auto& b : h) {
      b = next_byte();
    }
    std::uint32_t hcrc = crc32_gzip_refl(0, h, sizeof h);
    if (h[0] != 0x1f || h[1] != 0x8b) {
      header_error("incorrect header check");
    }
    if (h[2] != 8) {
      header_error("unknown compression method");
    }
    const unsigned flags = h[3];
    if (flags & 0xe0) {
      header_error("unknown header flags set");
    }
    auto keep = [&](unsigned char b) {
      hcrc = crc32_gzip_refl(hcrc, &b, 1);
      return b;
    };
    if (flags & 0x04) { // FEXTRA: a length, then that many bytes
      const unsigned lo = keep(next_byte());
      const unsigned length = lo | (unsigned{keep(next_byte())} << 8);
      for (unsigned i = 0; i < length; ++i) {
        keep(next_byte());
      }
    }
    for (const unsigned flag : {0x08u, 0x10u}) { // FNAME, FCOMMENT: zero-terminated
      if (flags & flag) {
        while (keep(next_byte()) != 0) {
        }
      }
    }
    if (flags & 0x02) { // FHCRC: the low 16 bits of the header's CRC-32
      const unsigned lo = next_byte();
      const unsigned stored = lo | (unsigned{next_byte()} << 8);
      if (stored != (hcrc & 0xffffu)) {
        header_error("header crc mismatch");
      }
    }
    m_phase = Phase::body;
  }

  // Decodes into out until it is full, the input is used up (then refilled) or the deflate stream ends.
  size_t inflate_some(unsigned char* out, std::uint32_t room)
  {
    inflate_state& st = *m_state;
    st.next_out = out;
    st.avail_out = room;
    while (st.avail_out > 0 && st.block_state != ISAL_BLOCK_FINISH) {
      if (!fill()) {
        fail_truncated();
      }
      // The input as this decoder stands in it (the header was read here, not by ISA-L).
      st.next_in = const_cast<unsigned char*>(m_next);
      st.avail_in = static_cast<std::uint32_t>(std::min<size_t>(m_avail, 1u << 30));
      const std::uint32_t before = st.avail_in;
      const std::uint32_t space = st.avail_out;
      const int rc = isal_inflate(&st);
      if (st.avail_in > before) {
        fail("damaged: internal error: the deflate decoder gave back input it was not given");
      }
      take(before - st.avail_in);
      if (rc < 0) {
        // What was decoded before the damage is handed over first (see DecoderBase::read).
        m_produced += room - st.avail_out;
        on_error(rc);
      }
      if (st.avail_in == before && st.avail_out == space && st.block_state != ISAL_BLOCK_FINISH) {
        fail("damaged: internal error: the deflate decoder made no progress");
      }
    }
    const size_t made = room - st.avail_out;
    m_crc = crc32_gzip_refl(m_crc, out, made);
    m_size += made;
    if (st.block_state == ISAL_BLOCK_FINISH) {
      m_phase = Phase::trailer;
    }
    return made;
  }

  void read_trailer()
  {
    // ISA-L may have read ahead into the trailer: the whole bytes after the last block's final
    // bits are in its bit buffer (the lowest bits first), the rest follows in the input.
    const inflate_state& st = *m_state;
    if (st.tmp_in_size != 0 || st.read_in_length < 0 || st.read_in_length > 64) {
      fail("damaged: internal error: the deflate decoder kept input it did not decode");
    }
    unsigned char t[8];
    size_t have = static_cast<size_t>(st.read_in_length) / 8;
    const unsigned skip = static_cast<unsigned>(st.read_in_length) % 8;
    for (size_t i = 0; i < have; ++i) {
      t[i] = static_cast<unsigned char>((st.read_in >> (skip + 8 * i)) & 0xff);
    }
    for (; have < sizeof t; ++have) {
      t[have] = next_byte();
    }
    const std::uint32_t crc = t[0] | (t[1] << 8) | (t[2] << 16) | (std::uint32_t{t[3]} << 24);
    const std::uint32_t size = t[4] | (t[5] << 8) | (t[6] << 16) | (std::uint32_t{t[7]} << 24);
    if (crc != m_crc) {
      fail("damaged: CRC-32 mismatch at the end of a member (incorrect data check)");
    }
    if (size != static_cast<std::uint32_t>(m_size)) {
      fail("damaged: the member's length field does not match its data (incorrect length check)");
    }
    m_members++;
    m_phase = Phase::between;
  }

  [[noreturn]] void on_error(int rc) const
  {
    switch (rc) {
    case ISAL_INVALID_BLOCK: fail("damaged: invalid deflate block (type, stored length or code lengths)");
    case ISAL_INVALID_SYMBOL: fail("damaged: invalid deflate code");
    case ISAL_INVALID_LOOKBACK: fail("damaged: invalid distance too far back");
    default: fail("damaged: deflate decoder error " + std::to_string(rc));
    }
  }

  std::unique_ptr<inflate_state> m_state; // 40 KiB: on the heap
  Phase m_phase = Phase::between;
  std::uint32_t m_crc = 0;
  std::uint64_t m_size = 0;
  std::uint64_t m_member_start = 0;
  std::uint64_t m_members = 0;
};

class Bzip2Decoder : public DecoderBase {
public:
  Bzip2Decoder(ChunkSource source, std::string name) : DecoderBase(Codec::bzip2, std::move(source), std::move(name))
  {
    init();
  }
  ~Bzip2Decoder() override { BZ2_bzDecompressEnd(&m_s); }

  size_t decode(unsigned char* out, size_t capacity) override
  {
    if (m_done || capacity == 0) {
      return 0;
    }
    const auto room = static_cast<unsigned>(std::min<size_t>(capacity, 1u << 30));
    m_s.next_out = reinterpret_cast<char*>(out);
    m_s.avail_out = room;
    while (m_s.avail_out > 0) {
      if (m_stream_ended) {
        if (m_s.avail_out < room) {
          break;
        }
        if (only_padding_follows()) {
          m_done = true;
          break;
        }
        m_stream_ended = false;
        m_stream_start = consumed();
        BZ2_bzDecompressEnd(&m_s);
        init();
        m_s.next_out = reinterpret_cast<char*>(out);
        m_s.avail_out = room;
      }
      if (!fill()) {
        fail_truncated();
      }
      m_s.next_in = const_cast<char*>(reinterpret_cast<const char*>(m_next));
      m_s.avail_in = static_cast<unsigned>(std::min<size_t>(m_avail, 1u << 30));
      const unsigned before = m_s.avail_in;
      const int rc = BZ2_bzDecompress(&m_s);
      take(before - m_s.avail_in);
      m_produced = room - m_s.avail_out;
      if (rc == BZ_STREAM_END) {
        m_stream_ended = true;
        m_streams++;
        continue;
      }
      if (rc == BZ_OK) {
        continue;
      }
      if (rc == BZ_DATA_ERROR_MAGIC && m_streams > 0) {
        fail_at(m_stream_start, "is followed by bytes that are neither another bzip2 stream nor zero padding");
      }
      fail(rc == BZ_MEM_ERROR ? "needs more memory than is available" : "damaged (a block's CRC or structure is wrong)");
    }
    return room - m_s.avail_out;
  }

private:
  void init()
  {
    std::memset(&m_s, 0, sizeof m_s);
    if (BZ2_bzDecompressInit(&m_s, 0, 0) != BZ_OK) {
      throw util::Error("libbz2: cannot set up bzip2 decompression (out of memory?)");
    }
  }

  bz_stream m_s;
  bool m_stream_ended = false;
  std::uint64_t m_stream_start = 0;
  std::uint64_t m_streams = 0;
};

class XzDecoder : public DecoderBase {
public:
  XzDecoder(ChunkSource source, std::string name) : DecoderBase(Codec::xz, std::move(source), std::move(name))
  {
    if (lzma_stream_decoder(&m_s, k_xz_memory_limit, LZMA_CONCATENATED) != LZMA_OK) {
      throw util::Error("liblzma: cannot set up xz decompression (out of memory?)");
    }
  }
  ~XzDecoder() override { lzma_end(&m_s); }

  size_t decode(unsigned char* out, size_t capacity) override
  {
    if (m_done || capacity == 0) {
      return 0;
    }
    m_s.next_out = out;
    m_s.avail_out = capacity;
    while (m_s.avail_out > 0) {
      const bool more = fill();
      m_s.next_in = m_next;
      m_s.avail_in = m_avail;
      const size_t before = m_s.avail_in;
      const size_t out_before = m_s.avail_out;
      const lzma_ret rc = lzma_code(&m_s, more ? LZMA_RUN : LZMA_FINISH);
      take(before - m_s.avail_in);
      m_produced = capacity - m_s.avail_out;
      if (rc == LZMA_STREAM_END) {
        m_done = true;
        break;
      }
      if (rc == LZMA_OK) {
        if (!more && m_s.avail_out == out_before) {
          fail_truncated();
        }
        continue;
      }
      if (rc == LZMA_BUF_ERROR) {
        fail_truncated();
      }
      if (rc == LZMA_MEMLIMIT_ERROR) {
        fail("needs more than " + std::to_string(k_xz_memory_limit >> 20) + " MiB of memory to decompress; refused");
      }
      if (rc == LZMA_FORMAT_ERROR) {
        fail("is not in the xz format here (data after the end of the stream?)");
      }
      if (rc == LZMA_OPTIONS_ERROR) {
        fail("uses options this liblzma does not support");
      }
      fail(rc == LZMA_MEM_ERROR ? "needs more memory than is available" : "damaged (a block's check or structure is wrong)");
    }
    return capacity - m_s.avail_out;
  }

private:
  lzma_stream m_s = LZMA_STREAM_INIT;
};

class ZstdDecoder : public DecoderBase {
public:
  ZstdDecoder(ChunkSource source, std::string name)
      : DecoderBase(Codec::zstd, std::move(source), std::move(name)), m_ctx(ZSTD_createDStream())
  {
    if (!m_ctx) {
      throw util::Error("libzstd: cannot set up zstd decompression (out of memory?)");
    }
    // Frames may ask for a window of up to 2^27 bytes by default (zstd's own limit); a larger
    // one (--long) is allowed up to 2^31, as the zstd tool allows with --memory.
    ZSTD_DCtx_setParameter(m_ctx, ZSTD_d_windowLogMax, 31);
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(m_ctx); }

  size_t decode(unsigned char* out, size_t capacity) override
  {
    if (m_done || capacity == 0) {
      return 0;
    }
    ZSTD_outBuffer o{out, capacity, 0};
    while (o.pos < o.size) {
      const bool more = fill();
      if (!more && m_frame_complete) {
        m_done = true; // every frame ended, and nothing follows
        break;
      }
      ZSTD_inBuffer i{m_next, m_avail, 0};
      const size_t out_before = o.pos;
      const size_t hint = ZSTD_decompressStream(m_ctx, &o, &i);
      take(i.pos);
      m_produced = o.pos;
      if (ZSTD_isError(hint)) {
        fail(std::string("damaged: ") + ZSTD_getErrorName(hint));
      }
      m_frame_complete = hint == 0;
      if (!more && o.pos == out_before && !m_frame_complete) {
        fail_truncated();
      }
    }
    return o.pos;
  }

private:
  ZSTD_DStream* m_ctx;
  bool m_frame_complete = false;
};

} // namespace

std::unique_ptr<Decoder> make_decoder(Codec codec, ChunkSource source, std::string name)
{
  switch (codec) {
  case Codec::gzip: return std::make_unique<GzipDecoder>(std::move(source), std::move(name));
  case Codec::bzip2: return std::make_unique<Bzip2Decoder>(std::move(source), std::move(name));
  case Codec::xz: return std::make_unique<XzDecoder>(std::move(source), std::move(name));
  case Codec::zstd: return std::make_unique<ZstdDecoder>(std::move(source), std::move(name));
  case Codec::none: break;
  }
  return nullptr;
}

} // namespace reproimg::readers
