// The audit policy file (YAML, read with yaml-cpp; docs/audit.md): severities per check,
// allowances by check and path glob each with a mandatory reason, and a fail-on default. Unknown
// keys, checks or severities and an allowance without a reason are refused naming the file and line.
#pragma once

#include "verify/audit_model.hpp"

#include <string>
#include <vector>

namespace reproimg::verify {

// Reads and checks the policy at path; throws util::Error (exit 2) with the file and line.
AuditPolicy read_audit_policy(const std::string& path);

// Applies the policy to findings: severities in force (a hidden secret takes private-key's when
// that is higher), allowances matched (every path of the finding matches one of the allowance's
// globs; an allowance without paths matches every finding of its check).
void apply_policy(const AuditPolicy& policy, std::vector<Finding>& findings);

// The checks as the report lists them, with the severities in force.
std::vector<report::CheckInfo> checks_in_force(const AuditPolicy& policy);

} // namespace reproimg::verify
