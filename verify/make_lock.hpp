// `reproimg lock`: an image (every platform of an index), a layer tar or a rootfs read once into
// a Lock: identities as stored, canonical diff_ids under a policy, the flattened filesystem.
#pragma once

#include "image/oci_layout.hpp"
#include "verify/layer_pass.hpp"
#include "verify/lock.hpp"

#include <optional>
#include <string>

namespace reproimg::verify {

struct LockOptions {
  normalize::Policy policy;                 // of the canonical diff_ids (recorded in the lock)
  FileList files = FileList::read;          // --no-files: skipped
  std::optional<image::Platform> platform;  // an index: this platform only (default: all)
  util::ProgressMode progress = util::ProgressMode::off;
};

Lock make_lock(const std::string& spec, const LockOptions& options);

// The flattened filesystem as the lock records it: sorted by path, sockets left out (the
// canonical policy drops them).
std::vector<LockedFile> locked_files(const Indexes& indexes);

} // namespace reproimg::verify
