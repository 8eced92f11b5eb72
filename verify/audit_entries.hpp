// The audit's checks on each entry of a layer, as the layer is read (one pass, with normalize's
// canonical diff_id): setuid, world-writable, device-node, private-key, embedded-timestamp,
// volatile-file; and what the whole-image checks need kept (entries, account files).
#pragma once

#include "normalize/entry_observer.hpp"
#include "verify/audit_model.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace reproimg::verify {

class EntryChecks : public normalize::EntryObserver {
public:
  // epoch: E, the time an embedded time may be clamped to (diff::embedded_time). Findings go to out, entries to layer.
  EntryChecks(LayerData& layer, std::vector<Finding>& out, std::int64_t epoch)
      : m_layer(layer), m_out(out), m_epoch(epoch)
  {
  }

  bool wants_contents() const override { return false; }
  std::uint64_t content_wanted(const readers::SourceEntry& entry) const override;
  void on_content(const readers::SourceEntry& entry, const std::string& bytes) override;
  void on_entry(const readers::SourceEntry& entry, const std::string& content_sha256) override;

  // Adds the findings grouped over the layer (volatile files by profile rule). Once, at the end.
  void finish();

private:
  void check_modes(const AuditEntry& e);
  void check_secret_path(const AuditEntry& e);
  void check_volatile(const AuditEntry& e);
  void add(Finding f);

  LayerData& m_layer;
  std::vector<Finding>& m_out;
  std::int64_t m_epoch;
  std::unordered_map<std::string, std::size_t> m_slot;        // path -> index in m_layer.entries
  std::map<std::string, std::vector<std::string>> m_volatile; // rule -> paths
  std::map<std::string, std::string> m_content_findings;      // path -> check that its content matched
  std::map<std::string, bool> m_git_dirs;
};

// The canonical path of a stored one ("" for the root or an unsafe path).
std::string audit_path(const std::string& raw);

} // namespace reproimg::verify
