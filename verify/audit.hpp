// `reproimg audit`: what an image (or a layer tar, or a rootfs) carries that a careful team would
// not ship, and how far it is from reproducible, in one read of each layer. The checks are in
// audit_entries (per entry), audit_accounts (accounts, config, times), audit_layers and
// audit_waste (across layers); the policy in audit_policy; the catalog in audit_model.
#pragma once

#include "image/oci_layout.hpp"
#include "verify/audit_model.hpp"

#include <optional>
#include <string>

namespace reproimg::verify {

// spec: any input reproimg reads (an image reference, a layer tar, dir:ROOTFS).
report::AuditResult run_audit(const std::string& spec, const AuditOptions& options,
                              const std::optional<image::Platform>& platform);

} // namespace reproimg::verify
