// ChainID over diff_ids (OCI image spec, "Layer ChainID"). Blob digests and diff_ids of a stored layer are
// read by readers/raw_stream.
#pragma once

#include <string>
#include <vector>

namespace reproimg::digest {

// ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)).
// Returns one ChainID per prefix of diff_ids.
std::vector<std::string> chain_ids(const std::vector<std::string>& diff_ids);

} // namespace reproimg::digest
