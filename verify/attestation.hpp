// The attestation `verify --attest` writes: an in-toto Statement v1 whose predicate is a SLSA
// Verification Summary (https://slsa.dev/verification_summary/v1). Signing is cosign's job.
#pragma once

#include "image/json.hpp"
#include "verify/verify.hpp"

#include <cstdint>
#include <string>

namespace reproimg::verify {

inline constexpr const char* k_statement_type = "https://in-toto.io/Statement/v1";
inline constexpr const char* k_vsa_predicate_type = "https://slsa.dev/verification_summary/v1";
inline constexpr const char* k_verifier_id = "https://github.com/reproimg/reproimg/verify";

struct AttestationInput {
  std::string lock_name;    // the lock as given (the policy's uri)
  std::string lock_sha256;  // "sha256:..." of the lock file's bytes
  std::int64_t time = 0;    // timeVerified (SOURCE_DATE_EPOCH when set)
  std::string version;      // reproimg's
};

// The statement's JSON text (keys sorted, two-space indent, final newline): its bytes depend on
// the result and the input only.
std::string attestation_json(const VerifyResult& result, const AttestationInput& input);

// The levels verifiedLevels names: REPROIMG_REPRODUCIBLE_BIT, _CANONICAL, _FILES (the level asked
// for and the stricter ones that hold), or FAILED.
image::Json verified_levels(const VerifyResult& result);

} // namespace reproimg::verify
