// The canonical policy: which attributes normalize keeps, clamps, clears or drops.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace reproimg::normalize {

enum class MtimePolicy { clamp, set };
enum class XattrPolicy { capability, all, none };
enum class Compression { none, gzip, zstd };

const char* compression_name(Compression c);
std::optional<Compression> parse_compression(const std::string& name);

struct Policy {
  std::int64_t epoch = 0;                  // E: SOURCE_DATE_EPOCH
  MtimePolicy mtime = MtimePolicy::clamp;
  std::optional<std::pair<std::int64_t, std::int64_t>> owner; // --owner UID:GID
  std::map<std::int64_t, std::int64_t> uid_map;               // --owner-map
  std::map<std::int64_t, std::int64_t> gid_map;
  bool keep_names = false;
  XattrPolicy xattrs = XattrPolicy::capability;
  std::vector<std::string> excludes;  // globs: the entry and everything below it is dropped
  std::vector<std::string> truncates; // globs: regular files matched are emptied
  std::vector<std::string> profiles;  // names, for the report
  // A sparse file may expand by at most this many bytes of holes (a 60 GB sparse map would
  // otherwise be written out in full).
  std::uint64_t max_sparse_fill = 1ull << 30;
};

// Adds a named profile's excludes and truncates; false if the name is unknown.
bool apply_profile(Policy& policy, const std::string& name);
std::vector<std::string> profile_names();

// The epoch from $SOURCE_DATE_EPOCH, if set and valid; throws on a malformed value.
std::optional<std::int64_t> source_date_epoch_from_env();

// Parses "UID:GID" (numbers).
std::pair<std::int64_t, std::int64_t> parse_owner(const std::string& text);
// Parses an --owner-map item: "OLD=NEW" (uid and gid), "u:OLD=NEW" or "g:OLD=NEW".
void parse_owner_map(const std::string& text, Policy& policy);

} // namespace reproimg::normalize
