// Fuzz target: `reproimg digest --canonical LAYER`, the canonical diff_id computed without
// writing anything, and the stored digests it prints beside it.
// Invariants: the canonical diff_id equals the sha256 of what normalize writes for the same input
// (and both refuse the same inputs); the stored blob digest is the sha256 of the input bytes; the
// layer read as a byte range of a larger file (a member of an image archive) gives the same results;
// a strict prefix is refused, or read as no more entries than the whole (a Go-style ending).
#include "digest/sha256.hpp"
#include "fuzz_support.hpp"
#include "normalize/pipeline.hpp"
#include "readers/raw_stream.hpp"
#include "util/error.hpp"

#include <optional>

using namespace reproimg;
using reproimg::fuzz::check;

namespace {

normalize::NormalizeOptions options()
{
  normalize::NormalizeOptions o;
  o.progress = util::ProgressMode::off;
  // A sparse map may declare gigabytes of holes (--max-sparse-fill refuses more than this).
  o.policy.max_sparse_fill = 1 << 20;
  return o;
}

struct Canonical {
  std::string diff_id;
  std::uint64_t tar_size = 0;
};

// What `digest --canonical` computes: normalize_layer with no sink.
std::optional<Canonical> canonical_digest(const readers::LayerSource& source)
{
  try {
    normalize::Report report;
    const auto r = normalize::normalize_layer(source, options(), nullptr, report);
    return Canonical{r.diff_id, r.tar_size};
  } catch (const util::Error& e) {
    fuzz::refused(e);
    return std::nullopt;
  }
}

std::optional<readers::StreamDigests> stored_digests(int fd, std::optional<std::pair<std::uint64_t, std::uint64_t>> range)
{
  try {
    return range ? readers::digest_stream_range(fd, "input", range->first, range->second)
                 : readers::digest_stream(fd, "input");
  } catch (const util::Error& e) {
    fuzz::refused(e);
    return std::nullopt;
  }
}

bool same(const std::optional<readers::StreamDigests>& a, const std::optional<readers::StreamDigests>& b)
{
  if (!a || !b) {
    return a.has_value() == b.has_value();
  }
  return a->compression == b->compression && a->blob_digest == b->blob_digest && a->blob_size == b->blob_size &&
         a->diff_id == b->diff_id && a->tar_size == b->tar_size;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size)
{
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const fuzz::MemFile input(bytes);
  const readers::LayerSource source{readers::LayerSource::Kind::tar, input.path()};

  // The canonical diff_id, and the sha256 of normalize's output for the same input.
  const std::optional<Canonical> canon = canonical_digest(source);
  // A canonical tar of many MiB (a 26 MB GNU long name expands from a 26 KB gzip seed) is computed
  // once: the four more passes below would cost seconds each under ASan and hit -timeout on a
  // busy machine. Smaller inputs exercise the same code.
  if (canon && canon->tar_size > (std::uint64_t{4} << 20)) {
    return 0;
  }
  std::optional<std::string> written;
  try {
    fuzz::StringSink sink;
    normalize::Report report;
    normalize::normalize_layer(source, options(), &sink, report);
    written = std::move(sink.bytes);
  } catch (const util::Error& e) {
    fuzz::refused(e);
  }
  check(canon.has_value() == written.has_value(), canon ? "digest --canonical accepted what normalize refuses"
                                                        : "digest --canonical refused what normalize accepts");
  if (canon) {
    check(canon->diff_id == digest::sha256_digest(*written), "canonical diff_id != sha256(normalize output)");
    check(canon->tar_size == written->size(), "canonical tar size != size of normalize output");
  }

  // The stored identities: the blob digest is the sha256 of the bytes as stored.
  const int fd = ::open(input.path().c_str(), O_RDONLY | O_CLOEXEC);
  check(fd >= 0, "cannot reopen the input");
  const util::Fd own(fd);
  const std::optional<readers::StreamDigests> stored = stored_digests(fd, std::nullopt);
  if (stored) {
    check(stored->blob_digest == digest::sha256_digest(bytes), "stored blob digest != sha256(input)");
    check(stored->blob_size == size, "stored blob size != input size");
    if (stored->compression == "none") {
      check(stored->diff_id == stored->blob_digest, "uncompressed input: diff_id != blob digest");
    }
  }

  // The same layer as the member of a larger file: bytes [offset, offset + size) between other
  // bytes that look like a tar, as an image archive holds it.
  const std::uint64_t offset = 512 + (size % 7) * 512;
  std::string padded(static_cast<size_t>(offset), '\0');
  padded.replace(0, std::min(bytes.size(), padded.size()), bytes.substr(0, std::min(bytes.size(), padded.size())));
  padded.append(bytes);
  padded.append(bytes.substr(0, std::min<size_t>(bytes.size(), 1024)));
  const fuzz::MemFile outer(padded);
  readers::LayerSource member{readers::LayerSource::Kind::tar, outer.path()};
  member.offset = offset;
  member.length = size;
  const std::optional<Canonical> canon_member = canonical_digest(member);
  check(canon.has_value() == canon_member.has_value(), "a layer refused alone but not as an archive member, or vice versa");
  if (canon) {
    check(canon->diff_id == canon_member->diff_id, "canonical diff_id differs when read as an archive member");
  }
  const std::optional<readers::StreamDigests> stored_member = stored_digests(outer.fd(), std::pair{offset, std::uint64_t{size}});
  check(same(stored, stored_member), "stored digests differ when read as an archive member");

  // A strict prefix never reads as more than the whole: at most as many entries, and never at
  // all when the input is one compressed stream (one gzip member or zstd frame) cut inside.
  if (stored && size > 1) {
    const std::uint64_t cut = (static_cast<std::uint64_t>(data[0]) * 257 + data[size - 1]) % size;
    const std::optional<readers::StreamDigests> prefix = stored_digests(fd, std::pair{std::uint64_t{0}, cut});
    if (prefix) {
      check(prefix->entries <= stored->entries, "a strict prefix read as more entries than the whole input");
      check(!fuzz::one_compressed_stream(bytes), "a strict prefix of one compressed stream was read as complete");
    }
  }
  return 0;
}
