// The in-toto Statement with its Verification Summary predicate.
#include "verify/attestation.hpp"

namespace reproimg::verify {

namespace {

using image::Json;

std::string hex_of(const std::string& digest)
{
  return digest.rfind("sha256:", 0) == 0 ? digest.substr(7) : digest;
}

std::string level_label(Level level)
{
  switch (level) {
  case Level::bit: return "REPROIMG_REPRODUCIBLE_BIT";
  case Level::canonical: return "REPROIMG_REPRODUCIBLE_CANONICAL";
  case Level::files: return "REPROIMG_REPRODUCIBLE_FILES";
  }
  return "FAILED";
}

} // namespace

Json verified_levels(const VerifyResult& result)
{
  if (!result.passed) {
    return Json::array({"FAILED"});
  }
  // The strictest level that holds names the track's level (one per track, as the spec asks).
  for (const Level l : {Level::bit, Level::canonical, Level::files}) {
    const Outcome o = l == Level::bit ? result.bit : l == Level::canonical ? result.canonical : result.files;
    if (o == Outcome::holds) {
      return Json::array({level_label(l)});
    }
    if (l == result.level) break;
  }
  return Json::array({level_label(result.level)});
}

std::string attestation_json(const VerifyResult& result, const AttestationInput& input)
{
  Json subjects = Json::array();
  for (const auto& s : result.subjects) {
    subjects.push_back({{"name", s.name}, {"digest", {{"sha256", hex_of(s.digest)}}}});
  }
  const Json predicate = {
      {"verifier", {{"id", k_verifier_id}, {"version", {{"reproimg", input.version}}}}},
      {"timeVerified", image::rfc3339(input.time)},
      {"resourceUri", result.subjects.empty() ? std::string() : result.diff.b},
      {"policy", {{"uri", input.lock_name}, {"digest", {{"sha256", hex_of(input.lock_sha256)}}}}},
      {"inputAttestations", Json::array()},
      {"verificationResult", result.passed ? "PASSED" : "FAILED"},
      {"verifiedLevels", verified_levels(result)},
      {"dependencyLevels", Json::object()},
      {"slsaVersion", "1.0"},
  };
  const Json statement = {{"_type", k_statement_type},
                          {"subject", subjects},
                          {"predicateType", k_vsa_predicate_type},
                          {"predicate", predicate}};
  return statement.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

} // namespace reproimg::verify
