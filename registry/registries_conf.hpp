// registries.conf (containers-registries.conf(5), the v2 TOML format) as containers/image reads
// it for docker:// references: [[registry]] entries with prefix and location (remapping), insecure,
// blocked and [[registry.mirror]]; the main file ($CONTAINERS_REGISTRIES_CONF, else
// ~/.config/containers/registries.conf, else /etc/containers/registries.conf) and its
// registries.conf.d/*.conf drop-ins. Short names (unqualified-search-registries) are not used:
// docker:// always qualifies a name with docker.io.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reproimg::registry {

enum class Insecure { no, yes }; // insecure = true: no TLS verification, plain HTTP allowed
enum class Blocked { no, yes };  // blocked = true: pulls and pushes refused
enum class PullFromMirror { all, digest_only, tag_only };

// Where an entry was read, for messages: "FILE:LINE".
struct ConfSource {
  std::string file;
  std::uint32_t line = 0;
  std::string display() const { return file + ":" + std::to_string(line); }
};

struct MirrorEntry {
  std::string location; // "HOST[:PORT][/PATH]"
  Insecure insecure = Insecure::no;
  PullFromMirror pull_from = PullFromMirror::all;
};

struct RegistryEntry {
  std::string prefix;   // "HOST[:PORT][/PATH]" or "*.DOMAIN"; the location when not given
  std::string location; // empty only for a wildcard prefix (no remapping)
  Insecure insecure = Insecure::no;
  Blocked blocked = Blocked::no;
  std::vector<MirrorEntry> mirrors; // tried in order by pulls, before the location
  ConfSource source;
};

struct RegistriesConf {
  std::vector<RegistryEntry> registries; // ordered by prefix (entries of a later file replace those of the same prefix)
  std::vector<std::string> files;        // the files read, in order

  // The entry whose prefix matches name ("HOST/REPOSITORY") longest: the prefix equals name or
  // is followed there by '/'; "*.example.com" matches hosts below example.com. nullptr: none.
  const RegistryEntry* find(const std::string& name) const;
  // Adds the entries of a later file: one with the prefix of an earlier entry replaces it.
  void merge(RegistriesConf later);
};

// One file's text. Throws util::Error (exit 2) naming file and line for TOML that does not parse, a
// value of the wrong type, an invalid location or prefix, a prefix given twice.
RegistriesConf parse_registries_conf(const std::string& text, const std::string& file);

// The main file and its drop-ins as containers/image finds them, for home ($HOME) and the
// environment; missing files are no configuration. Each file's errors as parse_registries_conf.
RegistriesConf load_registries_conf(const std::string& home);

// load_registries_conf($HOME), read once per process (on the first docker:// access).
const RegistriesConf& registries_conf();

// The name ("HOST/REPOSITORY") entry rewrites to location (its own or a mirror's): location + what
// follows the prefix in name (for a wildcard prefix, what follows the host); name itself for an
// empty location.
std::string rewrite_name(const RegistryEntry& entry, const std::string& location, const std::string& name);

} // namespace reproimg::registry
