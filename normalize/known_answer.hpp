// The known-answer check of the linked compressors: fixed inputs whose canonical blobs are
// recorded here; a library that writes other bytes makes other blob digests (docs/canonical-tar.md §7.4).
#pragma once

#include "normalize/policy.hpp"
#include "util/file.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace reproimg::normalize {

enum class KnownAnswer { pass, fail };

struct KnownAnswerResult {
  KnownAnswer status = KnownAnswer::pass;
  std::string detail; // on a failure: which input, the digest recorded and the one written
};

// The check's fixed inputs: "empty" (0 bytes) and "mixed" (3 gzip blocks and 1000 bytes of text
// runs and pseudo-random bytes, so that the dictionaries and block ends are exercised).
struct KnownAnswerInput {
  std::string name;
  std::vector<unsigned char> bytes;
};
std::vector<KnownAnswerInput> known_answer_inputs();

// The recorded "sha256:..." of the canonical blob of the named input.
std::string known_answer_digest(Compression c, const std::string& input_name);

// Makes a compressor writing into next (a test double stands in for the linked library).
using CompressorFactory = std::function<std::unique_ptr<util::ByteSink>(util::ByteSink& next)>;

// Feeds every input through the compressor make makes and compares the blobs' digests.
KnownAnswerResult check_known_answers(Compression c, const CompressorFactory& make);

// The check of the linked library behind c, run once per process (the first call does the work;
// safe from any thread). Compression::none always passes.
const KnownAnswerResult& linked_known_answers(Compression c);

class Report;

// Adds a warning to report when the linked library behind c fails the check (once per report).
void warn_if_not_canonical(Compression c, Report& report);

// "zlib 1.2.13: canonical" or "zlib 1.2.13: NOT canonical (...)", for --version and warnings.
std::string known_answer_summary(Compression c);

} // namespace reproimg::normalize
