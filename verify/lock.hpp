// The lock (`reproimg-lock/1`): what `reproimg lock` records of an image, to verify a rebuild
// against; its JSON form written deterministically and read strictly (docs/lock.md).
#pragma once

#include "diff/tree_index.hpp"
#include "image/json.hpp"
#include "normalize/policy.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reproimg::verify {

inline constexpr const char* k_lock_schema = "reproimg-lock/1";

// What the locked input was: an image, one layer tar, or a rootfs directory.
enum class InputKind { image, layer, rootfs };
const char* input_kind_name(InputKind kind);

struct LockedLayer {
  std::string media_type;   // "" for a lone layer tar or a rootfs
  std::string compression;  // "none", "gzip", "zstd", ..., "directory"
  std::string digest;       // blob digest ("" for a rootfs)
  std::uint64_t size = 0;   // blob size
  std::string diff_id;      // "" for a rootfs
  std::string chain_id;     // "" for a rootfs
  std::string canonical_diff_id;
};

// One file of the flattened filesystem.
struct LockedFile {
  std::string path;
  readers::EntryType type = readers::EntryType::regular;
  std::uint32_t mode = 0;
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::string uname;
  std::string gname;
  std::uint64_t size = 0;
  std::string sha256;       // regular files: "sha256:..." of the contents
  std::string link_target;  // symlink target, or the path a hardlink shares its data with
  std::string device;       // "MAJOR:MINOR" of a device node
  std::int64_t mtime = 0;
  long mtime_nsec = 0;
  std::vector<std::pair<std::string, std::string>> xattrs; // name -> "sha256:..." of the value, sorted
};

// One image (one platform of an index), or the one layer / rootfs.
struct LockedImage {
  std::string platform;            // "os/arch[/variant]" ("" for a layer or rootfs)
  std::string manifest_media_type;
  std::string manifest_digest;
  image::Json manifest;            // null when there is none (docker-archive, layer, rootfs)
  std::string config_digest;       // the image ID
  std::uint64_t config_size = 0;
  image::Json config;              // null for a layer or rootfs
  std::string created;             // the config's, "" when none
  std::string canonical_config_digest;
  std::vector<LockedLayer> layers;
  std::optional<std::vector<LockedFile>> files; // none with --no-files; sorted by path
};

struct Lock {
  InputKind kind = InputKind::image;
  normalize::Policy policy; // of the canonical diff_ids
  std::vector<LockedImage> images;
};

// The lock as JSON text: keys sorted, two-space indent, a final newline; bytes depend on the lock only.
std::string lock_to_json(const Lock& lock);
// Reads a lock strictly: another schema, malformed JSON, a missing or mistyped field, or an
// impossible value (a digest that is no sha256, a mode above 07777, paths unsorted) is a
// util::Error naming file and the JSON pointer of the field.
Lock lock_from_json(const std::string& text, const std::string& file);
// The bytes of a lock file (at most 1 GiB), for lock_from_json and the attestation's digest.
std::string read_lock_bytes(const std::string& path);

// The policy as the lock records it, and back (used by the reader; exposed for tests).
image::Json policy_to_json(const normalize::Policy& policy);

// "sha256:" + hex of an xattr value.
std::string xattr_value_digest(const std::string& value);

// The locked files as diff records (content known by digest only), for diff's comparer.
diff::FileRecord record_of_locked(const LockedFile& f);
// And a rebuilt file as the lock records it (printable path, xattr values as digests).
LockedFile locked_of_record(const diff::FileRecord& r);

} // namespace reproimg::verify
