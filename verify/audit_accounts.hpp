// The audit's checks on the image as a whole: its accounts (etc/passwd, etc/group, etc/shadow as
// the top layers leave them: unknown-owner, duplicate-id, empty-password, shadow change days), its
// config (secret-env, root-user) and its times (mtime-spread).
#pragma once

#include "verify/audit_model.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reproimg::verify {

// The account files as the image's filesystem has them (the highest layer that holds each;
// nullopt: none does, or a later layer deleted it).
struct AccountFiles {
  std::optional<std::string> passwd;
  std::optional<std::string> group;
  std::optional<std::string> shadow;
  std::optional<int> passwd_layer;
  std::optional<int> shadow_layer;
};

// duplicate-id, empty-password, and volatile-file for shadow change days other than epoch's day.
void check_accounts(const AccountFiles& files, std::optional<std::int64_t> epoch, std::vector<Finding>& out);
// unknown-owner: per layer, the uids and gids the account files do not define (skipped, with a
// note, when the image has no etc/passwd).
void check_owners(const AccountFiles& files, const std::vector<LayerData>& layers, std::vector<Finding>& out,
                  std::vector<std::string>& notes);
// secret-env and root-user (config: the image config document, or null for a layer or rootfs).
void check_config(const nlohmann::json& config, std::vector<Finding>& out);
// mtime-spread: per layer, build-time mtimes not clamped to one value; mtimes after the config's
// created; created or history times after the newest mtime by more than the build window.
void check_times(const nlohmann::json& config, const std::vector<LayerData>& layers, std::int64_t build_window,
                 std::vector<Finding>& out);

// Seconds since the epoch of an RFC 3339 time ("2024-01-02T03:04:05.123Z", "...+02:00"), nullopt
// if it is not one.
std::optional<std::int64_t> parse_rfc3339(const std::string& text);

} // namespace reproimg::verify
