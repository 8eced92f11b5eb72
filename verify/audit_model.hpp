// `reproimg audit`'s model: the catalog of checks (stable IDs, default severities, fixes), the
// options, and what one read of a layer keeps for the checks that need the whole image.
#pragma once

#include "readers/entry.hpp"
#include "report/findings.hpp"
#include "util/progress.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reproimg::verify {

using report::Finding;
using report::Severity;

struct CheckSpec {
  const char* id;
  const char* group;
  Severity severity; // the default
  const char* description;
  const char* fix;
};

// Every check, in report order (reproducibility first, then hygiene).
const std::vector<CheckSpec>& audit_checks();
const CheckSpec* find_check(const std::string& id);

// A path glob of the policy and what it allows (audit_policy.hpp reads them).
struct PolicyAllowance {
  std::string check;
  std::string glob;   // "" : every path of the check
  std::string reason; // mandatory
  std::string where;  // "FILE:LINE"
};

struct AuditPolicy {
  std::map<std::string, Severity> severities; // check -> severity in force
  std::vector<PolicyAllowance> allowances;
  std::optional<Severity> fail_on; // the file's fail-on (the command line wins)
};

struct AuditOptions {
  std::optional<std::int64_t> epoch; // --source-date-epoch or $SOURCE_DATE_EPOCH
  Severity fail_on = Severity::high;
  AuditPolicy policy;
  util::ProgressMode progress = util::ProgressMode::off;
  std::int64_t build_window = 86400; // seconds a build may take (mtime-spread)
};

// An entry as the whole-image checks keep it.
struct AuditEntry {
  std::string path; // canonical
  readers::EntryType type = readers::EntryType::regular;
  std::uint32_t mode = 0;
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::int64_t mtime = 0;
  std::uint64_t size = 0;
  std::string link_target; // canonical for a hardlink
  bool whiteout = false;   // .wh.NAME or an opaque marker (path as stored)
};

struct LayerData {
  int number = 0;
  std::vector<AuditEntry> entries;                 // stored order, a path stored twice kept once (the last)
  std::map<std::string, std::string> accounts;     // etc/passwd, etc/group, etc/shadow: contents
  std::map<std::string, std::string> secret_paths; // paths a secret check matched -> check id
  std::uint64_t tar_bytes = 0;                     // sum of entry sizes (dive's layer size)
};

// A finding of check (severity and fix from the catalog; the policy applies later).
Finding make_finding(const std::string& check, std::optional<int> layer, std::vector<std::string> paths,
                     std::string reason);

} // namespace reproimg::verify
