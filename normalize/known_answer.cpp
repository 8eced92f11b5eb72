// The known-answer check of the linked compressors (docs/canonical-tar.md §7.4).
#include "normalize/known_answer.hpp"

#include "digest/sha256.hpp"
#include "normalize/compress.hpp"
#include "normalize/report.hpp"

#include <algorithm>
#include <mutex>

namespace reproimg::normalize {

namespace {

constexpr size_t k_mixed_size = 3 * 128 * 1024 + 1000;

// Text runs (which the 32 KiB dictionaries find across block ends) and, one 4 KiB stretch in
// three, bytes of a linear congruential generator (which no deflate finds a match in).
std::vector<unsigned char> mixed_input()
{
  static const char text[] = "usr/share/doc/reproimg/copyright 0644 root:root\n";
  std::vector<unsigned char> out(k_mixed_size);
  std::uint32_t x = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    x = x * 1103515245u + 12345u;
    const bool random_stretch = (i / 4096) % 3 == 1;
    out[i] = random_stretch ? static_cast<unsigned char>(x >> 23)
                            : static_cast<unsigned char>(text[(i + i / 7919) % (sizeof text - 1)]);
  }
  return out;
}

// The chunks the input is written in: uneven, so that the compressors' own cutting is tested.
constexpr size_t k_chunk = 50'000;

} // namespace

std::vector<KnownAnswerInput> known_answer_inputs()
{
  return {{"empty", {}}, {"mixed", mixed_input()}};
}

std::string known_answer_digest(Compression c, const std::string& input_name)
{
  struct Recorded {
    Compression c;
    const char* input;
    const char* digest;
  };
  // Written by zlib 1.2.13 and libzstd 1.5.4; the gzip ones also by the Python reference of
  // docs/canonical-tar.md §7.2, the zstd "mixed" one also by `zstd -3 -T1` from a pipe.
  static const Recorded recorded[] = {
      {Compression::gzip, "empty", "sha256:ac73670af3abed54ac6fb4695131f4099be9fbe39d6076c5d0264a6bbdae9d83"},
      {Compression::gzip, "mixed", "sha256:e72357a35503a7cb39cc10a623b39c2456be0f1d46c1537fe32995c8df7c9e80"},
      {Compression::zstd, "empty", "sha256:d950bda1b5d80fc3fdac65030aff317b00fd22609e9c830b3ac41bb0cb23294f"},
      {Compression::zstd, "mixed", "sha256:57eaaeab65b82a7c5d3de3e77b95e68d3a5d313a5f38f75429fdd3e5f55dc46e"},
  };
  for (const auto& r : recorded) {
    if (r.c == c && input_name == r.input) {
      return r.digest;
    }
  }
  return "";
}

KnownAnswerResult check_known_answers(Compression c, const CompressorFactory& make)
{
  KnownAnswerResult result;
  for (const auto& input : known_answer_inputs()) {
    digest::HashingSink hash;
    const std::unique_ptr<util::ByteSink> compressor = make(hash);
    for (size_t at = 0; at < input.bytes.size(); at += k_chunk) {
      compressor->write(input.bytes.data() + at, std::min(k_chunk, input.bytes.size() - at));
    }
    compressor->finish();
    const std::string got = hash.digest();
    const std::string want = known_answer_digest(c, input.name);
    if (got != want) {
      result.status = KnownAnswer::fail;
      result.detail +=
          (result.detail.empty() ? "" : "; ") + input.name + " input: recorded " + want + ", written " + got;
    }
  }
  return result;
}

const KnownAnswerResult& linked_known_answers(Compression c)
{
  static std::once_flag once_gzip;
  static std::once_flag once_zstd;
  static KnownAnswerResult gzip;
  static KnownAnswerResult zstd;
  static const KnownAnswerResult none;
  switch (c) {
  case Compression::none: return none;
  case Compression::gzip:
    std::call_once(once_gzip, [] {
      gzip = check_known_answers(Compression::gzip,
                                 [](util::ByteSink& next) { return make_compressor(Compression::gzip, next, 1); });
    });
    return gzip;
  case Compression::zstd:
    std::call_once(once_zstd, [] {
      zstd = check_known_answers(Compression::zstd,
                                 [](util::ByteSink& next) { return make_compressor(Compression::zstd, next, 1); });
    });
    return zstd;
  }
  return none;
}

std::string known_answer_summary(Compression c)
{
  const KnownAnswerResult& r = linked_known_answers(c);
  if (r.status == KnownAnswer::pass) {
    return compressor_version(c) + ": canonical (known-answer check passed)";
  }
  return compressor_version(c) + ": NOT canonical, blob digests differ from other hosts' (" + r.detail + ")";
}

void warn_if_not_canonical(Compression c, Report& report)
{
  if (linked_known_answers(c).status == KnownAnswer::pass) {
    return;
  }
  const std::string message =
      "the linked " + compressor_version(c) + " fails the known-answer check: the blob " +
      "digests written are not the canonical ones (the diff_ids are): " + linked_known_answers(c).detail;
  const auto& w = report.warnings();
  if (std::find(w.begin(), w.end(), message) == w.end()) {
    report.warn(message);
  }
}

} // namespace reproimg::normalize
