// The canonical policy, its profiles and option parsing.
#include "normalize/policy.hpp"

#include "util/error.hpp"

#include <charconv>
#include <cstdlib>

namespace reproimg::normalize {

const char* compression_name(Compression c)
{
  switch (c) {
  case Compression::none: return "none";
  case Compression::gzip: return "gzip";
  case Compression::zstd: return "zstd";
  }
  return "none";
}

std::optional<Compression> parse_compression(const std::string& name)
{
  if (name == "none") return Compression::none;
  if (name == "gzip") return Compression::gzip;
  if (name == "zstd") return Compression::zstd;
  return std::nullopt;
}

namespace {

struct Profile {
  const char* name;
  std::vector<std::string> excludes;
  std::vector<std::string> truncates;
};

// Paths whose content records when and where an image was built rather than what it holds.
// Sources: debuerreotype's minimizing steps, reproducible-builds.org notes on Debian images.
const std::vector<Profile>& profiles()
{
  static const std::vector<Profile> k_profiles = {
      {"debian",
       {
           "var/lib/apt/lists/*",          // package indexes: depend on the mirror's state
           "var/cache/apt/*.bin",          // pkgcache.bin, srcpkgcache.bin
           "var/cache/apt/archives/*.deb", // downloaded packages
           "var/cache/apt/archives/partial/*",
           "var/cache/ldconfig/aux-cache", // ld.so cache with inode numbers and times
           "var/cache/debconf/*-old",
           "var/lib/dpkg/*-old",
           "var/log/apt/eipp.log.xz",
           "run/*",
           "tmp/*",
           "var/tmp/*",
           "etc/ssh/ssh_host_*", // generated per build: a security hazard as well
       },
       {
           "etc/machine-id",           // systemd expects the file to exist, empty
           "var/lib/dbus/machine-id",
           "var/log/dpkg.log",
           "var/log/apt/*.log",
           "var/log/alternatives.log",
           "var/log/bootstrap.log",
           "var/log/lastlog",
           "var/log/faillog",
           "var/log/wtmp",
           "var/log/btmp",
       }},
  };
  return k_profiles;
}

std::int64_t parse_int(const std::string& text, const char* what)
{
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw util::Error(std::string("invalid ") + what + ": '" + util::printable(text) + "'");
  }
  return value;
}

} // namespace

bool apply_profile(Policy& policy, const std::string& name)
{
  for (const auto& p : profiles()) {
    if (name == p.name) {
      policy.excludes.insert(policy.excludes.end(), p.excludes.begin(), p.excludes.end());
      policy.truncates.insert(policy.truncates.end(), p.truncates.begin(), p.truncates.end());
      policy.profiles.push_back(name);
      return true;
    }
  }
  return false;
}

std::vector<std::string> profile_names()
{
  std::vector<std::string> out;
  for (const auto& p : profiles()) {
    out.emplace_back(p.name);
  }
  return out;
}

std::optional<std::int64_t> source_date_epoch_from_env()
{
  const char* v = std::getenv("SOURCE_DATE_EPOCH");
  if (!v || !*v) {
    return std::nullopt;
  }
  const std::int64_t e = parse_int(v, "SOURCE_DATE_EPOCH (want seconds since 1970)");
  if (e < 0) {
    throw util::Error("invalid SOURCE_DATE_EPOCH: negative");
  }
  return e;
}

std::pair<std::int64_t, std::int64_t> parse_owner(const std::string& text)
{
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    throw util::Error("invalid --owner '" + util::printable(text) + "': want UID:GID, e.g. 0:0");
  }
  const auto uid = parse_int(text.substr(0, colon), "--owner uid");
  const auto gid = parse_int(text.substr(colon + 1), "--owner gid");
  if (uid < 0 || gid < 0) {
    throw util::Error("invalid --owner: ids must not be negative");
  }
  return {uid, gid};
}

void parse_owner_map(const std::string& text, Policy& policy)
{
  std::string item = text;
  bool uid = true;
  bool gid = true;
  if (item.rfind("u:", 0) == 0) {
    gid = false;
    item = item.substr(2);
  } else if (item.rfind("g:", 0) == 0) {
    uid = false;
    item = item.substr(2);
  }
  const auto eq = item.find('=');
  if (eq == std::string::npos) {
    throw util::Error("invalid --owner-map '" + util::printable(text) + "': want OLD=NEW, u:OLD=NEW or g:OLD=NEW");
  }
  const auto from = parse_int(item.substr(0, eq), "--owner-map id");
  const auto to = parse_int(item.substr(eq + 1), "--owner-map id");
  if (from < 0 || to < 0) {
    throw util::Error("invalid --owner-map: ids must not be negative");
  }
  if (uid) policy.uid_map[from] = to;
  if (gid) policy.gid_map[from] = to;
}

} // namespace reproimg::normalize
