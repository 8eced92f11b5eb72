// ChainID computation.
#include "digest/chain_id.hpp"

#include "digest/sha256.hpp"

namespace reproimg::digest {

std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids)
{
  std::vector<std::string> out;
  out.reserve(diff_ids.size());
  for (const auto& id : diff_ids) {
    out.push_back(out.empty() ? id : sha256_digest(out.back() + " " + id));
  }
  return out;
}

} // namespace reproimg::digest
