// The cause list and the report order.
#include "diff/difference.hpp"

#include <algorithm>
#include <tuple>

namespace reproimg::diff {

namespace {

struct CauseInfo {
  Cause cause;
  const char* name;
  const char* description;
};

const CauseInfo k_causes[] = {
    {Cause::format, "format",
     "the same image in another container format: manifest schema, media types, layers stored compressed or not, "
     "the config's JSON encoding"},
    {Cause::manifest, "manifest", "manifest fields other than the config and layer descriptors"},
    {Cause::config_created, "config-created", "the config's creation time"},
    {Cause::config_history, "config-history", "history entries of the config"},
    {Cause::config_field, "config-field", "other config fields (env, cmd, labels, platform, ...)"},
    {Cause::layer_split, "layer-split", "the same files split into different layers"},
    {Cause::compression, "compression", "same uncompressed layer, different compressed bytes"},
    {Cause::tar_encoding, "tar-encoding", "same entries, different tar encoding (dialect, pax records, padding)"},
    {Cause::order, "order", "same entries, stored in a different order"},
    {Cause::added, "added", "paths only in B"},
    {Cause::removed, "removed", "paths only in A"},
    {Cause::type, "type", "the file type differs"},
    {Cause::content, "content", "the bytes of a file (or a device's numbers) differ"},
    {Cause::embedded_timestamp, "embedded-timestamp",
     "contents differ only in timestamps they embed (gzip header, zip entries, .pyc, ar members)"},
    {Cause::volatile_path, "volatile-path", "logs, caches and host-specific files that change with every build"},
    {Cause::link_target, "link-target", "a symlink points elsewhere"},
    {Cause::hardlink, "hardlink", "hardlinked in one, separate files (or other links) in the other"},
    {Cause::mode, "mode", "permission bits"},
    {Cause::owner_id, "owner-id", "numeric uid or gid"},
    {Cause::owner_name, "owner-name", "user or group names"},
    {Cause::xattr, "xattr", "extended attributes"},
    {Cause::mtime, "mtime", "modification times"},
    {Cause::pax_time, "pax-time", "atime/ctime records of pax or GNU headers"},
};

} // namespace

const char* cause_name(Cause cause)
{
  for (const auto& c : k_causes) {
    if (c.cause == cause) return c.name;
  }
  return "?";
}

const char* cause_description(Cause cause)
{
  for (const auto& c : k_causes) {
    if (c.cause == cause) return c.description;
  }
  return "";
}

std::optional<Cause> parse_cause(const std::string& name)
{
  for (const auto& c : k_causes) {
    if (name == c.name) return c.cause;
  }
  return std::nullopt;
}

const std::vector<Cause>& all_causes()
{
  static const std::vector<Cause> v = [] {
    std::vector<Cause> out;
    for (const auto& c : k_causes) out.push_back(c.cause);
    std::sort(out.begin(), out.end());
    return out;
  }();
  return v;
}

const char* verdict_name(Verdict v)
{
  switch (v) {
  case Verdict::identical: return "identical";
  case Verdict::equivalent: return "equivalent";
  case Verdict::different: return "different";
  }
  return "?";
}

void sort_differences(std::vector<Difference>& differences)
{
  auto key = [](const Difference& d) {
    const bool image_level = d.path.rfind("manifest:", 0) == 0 || d.path.rfind("config:", 0) == 0 ||
                             d.cause == Cause::layer_split;
    // Image-level first; then layers in order; then flattened (no layer); paths in byte order.
    const int group = image_level ? 0 : d.layer ? 1 : 2;
    return std::make_tuple(group, d.layer.value_or(-1), d.path, static_cast<int>(d.cause));
  };
  std::stable_sort(differences.begin(), differences.end(),
                   [&](const Difference& x, const Difference& y) { return key(x) < key(y); });
}

} // namespace reproimg::diff
