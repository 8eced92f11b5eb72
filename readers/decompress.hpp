// Strict streaming decompressors (gzip, bzip2, xz, zstd): a stream that ends before its end marker,
// a damaged block or a failed checksum is an error naming the compressed offset, never a shorter
// output. libarchive's filters return what they decoded of a stream cut short as if it were whole.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace reproimg::readers {

enum class Codec { none, gzip, bzip2, xz, zstd };

const char* codec_name(Codec c);

// What the first bytes of a stream say it is, by magic number. The one table every reader uses.
struct CodecMagic {
  const char* name; // "gzip", ..., "none", or what an unsupported compression is ("lz4", ...)
  Codec codec = Codec::none;
  bool supported = true;
};
// n bytes of the stream's start at p; at_end: they are all of it. A zstd skippable frame is zstd
// when a frame follows it (or when what follows is not at hand: the decoder then judges).
CodecMagic sniff_codec(const unsigned char* p, size_t n, bool at_end);

// Where a decoder takes its compressed bytes: each call hands over the next chunk (valid until the
// next call) and returns its length, 0 at the end of the input.
using ChunkSource = std::function<size_t(const unsigned char** chunk)>;

class Decoder {
public:
  virtual ~Decoder() = default;
  // Up to capacity decompressed bytes into out; 0 once the compressed input has ended, after
  // checking that it ended where a stream may end. Concatenated gzip members, bzip2 streams, xz
  // streams and zstd frames are one stream, as gzip -d, Go and zstd read them. After the last
  // gzip member or bzip2 stream only zero bytes may follow (padding some writers add); anything
  // else is an error, as it is for xz and zstd. Throws util::Error with the file name and the
  // offset of the compressed byte at fault.
  virtual size_t read(unsigned char* out, size_t capacity) = 0;
  // Compressed bytes taken from the source so far, minus those not yet decoded.
  virtual std::uint64_t consumed() const = 0;
};

// name is for messages. Codec::none is not a decoder: the caller reads the bytes as they are.
std::unique_ptr<Decoder> make_decoder(Codec codec, ChunkSource source, std::string name);

// The most memory an xz stream may ask for: a larger dictionary is refused, not allocated.
constexpr std::uint64_t k_xz_memory_limit = 1ull << 30;

} // namespace reproimg::readers
