// registries.conf read with toml++ (libtomlplusplus-dev): the [[registry]] tables, checked as
// containers/image checks them, merged over the drop-ins, matched by longest prefix.
#include "registry/registries_conf.hpp"

#include "util/error.hpp"
#include "util/file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <map>

namespace reproimg::registry {

namespace {

std::uint32_t line_of(const toml::node& node)
{
  return node.source().begin.line;
}

[[noreturn]] void bad(const std::string& file, std::uint32_t line, const std::string& why)
{
  throw util::Error(util::Location::of_line(file, line), "registries.conf: " + why);
}

// The string value of key in table (empty when absent); another type is an error.
std::string string_of(const toml::table& table, const char* key, const std::string& file)
{
  const toml::node* node = table.get(key);
  if (!node) return "";
  if (!node->is_string()) bad(file, line_of(*node), std::string("'") + key + "' must be a string");
  return node->value<std::string>().value_or("");
}

bool bool_of(const toml::table& table, const char* key, const std::string& file)
{
  const toml::node* node = table.get(key);
  if (!node) return false;
  if (!node->is_boolean()) bad(file, line_of(*node), std::string("'") + key + "' must be true or false");
  return *node->value<bool>();
}

// A location or a non-wildcard prefix: HOST[:PORT][/PATH], no scheme, no tag or digest.
void check_location(const std::string& value, const char* key, const std::string& file, std::uint32_t line)
{
  if (value.find("://") != std::string::npos) {
    bad(file, line, std::string("'") + key + "' = '" + util::printable(value) + "': URI schemes are not supported");
  }
  if (value.find('@') != std::string::npos || value.find_first_of(" \t") != std::string::npos) {
    bad(file, line, std::string("'") + key + "' = '" + util::printable(value) + "' is not HOST[:PORT][/PATH]");
  }
  if (!value.empty() && (value.back() == '/' || value.front() == '/')) {
    bad(file, line, std::string("'") + key + "' = '" + util::printable(value) + "': no leading or trailing '/'");
  }
}

MirrorEntry mirror_of(const toml::table& table, const std::string& file, std::uint32_t line)
{
  MirrorEntry m;
  m.location = string_of(table, "location", file);
  if (m.location.empty()) bad(file, line, "a [[registry.mirror]] without a location");
  check_location(m.location, "location", file, line);
  m.insecure = bool_of(table, "insecure", file) ? Insecure::yes : Insecure::no;
  const std::string from = string_of(table, "pull-from-mirror", file);
  if (from.empty() || from == "all") {
    m.pull_from = PullFromMirror::all;
  } else if (from == "digest-only") {
    m.pull_from = PullFromMirror::digest_only;
  } else if (from == "tag-only") {
    m.pull_from = PullFromMirror::tag_only;
  } else {
    bad(file, line, "'pull-from-mirror' must be all, digest-only or tag-only, not '" + util::printable(from) + "'");
  }
  return m;
}

RegistryEntry registry_of(const toml::table& table, const std::string& file, std::uint32_t line)
{
  RegistryEntry e;
  e.source = {file, line};
  e.prefix = string_of(table, "prefix", file);
  e.location = string_of(table, "location", file);
  e.insecure = bool_of(table, "insecure", file) ? Insecure::yes : Insecure::no;
  e.blocked = bool_of(table, "blocked", file) ? Blocked::yes : Blocked::no;
  check_location(e.location, "location", file, line);
  if (e.prefix.rfind("*.", 0) == 0) {
    if (e.prefix.find('/') != std::string::npos || e.prefix.find('*', 1) != std::string::npos) {
      bad(file, line, "a wildcard prefix is '*.DOMAIN' alone, not '" + util::printable(e.prefix) + "'");
    }
  } else {
    if (e.prefix.find('*') != std::string::npos) {
      bad(file, line, "'*' only as the start of a '*.DOMAIN' prefix, not in '" + util::printable(e.prefix) + "'");
    }
    check_location(e.prefix, "prefix", file, line);
    if (e.prefix.empty()) e.prefix = e.location;
  }
  if (e.prefix.empty()) bad(file, line, "a [[registry]] with neither prefix nor location");
  // The older spelling of pull-from-mirror = "digest-only" for every mirror of the entry.
  const bool by_digest_only = bool_of(table, "mirror-by-digest-only", file);
  if (const toml::node* mirrors = table.get("mirror")) {
    const toml::array* list = mirrors->as_array();
    if (!list) bad(file, line_of(*mirrors), "'mirror' must be an array of tables ([[registry.mirror]])");
    for (const toml::node& m : *list) {
      if (!m.is_table()) bad(file, line_of(m), "a mirror must be a table");
      if (by_digest_only && m.as_table()->get("pull-from-mirror")) {
        bad(file, line_of(m), "a mirror's 'pull-from-mirror' with the registry's 'mirror-by-digest-only'");
      }
      e.mirrors.push_back(mirror_of(*m.as_table(), file, line_of(m)));
      if (by_digest_only) e.mirrors.back().pull_from = PullFromMirror::digest_only;
    }
  }
  return e;
}

bool host_below(const std::string& host, const std::string& wildcard) // "*.example.com"
{
  const std::string domain = wildcard.substr(1); // ".example.com"
  const std::string bare = host.substr(0, host.find(':'));
  return bare.size() > domain.size() && bare.compare(bare.size() - domain.size(), domain.size(), domain) == 0;
}

// Files named *.conf in dir, in name order.
std::vector<std::string> drop_ins(const std::string& dir)
{
  std::vector<std::string> files;
  if (!util::is_directory(dir)) return files;
  for (const auto& name : util::sorted_directory_names(dir)) {
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".conf") == 0 && util::is_regular_file(dir + "/" + name)) {
      files.push_back(dir + "/" + name);
    }
  }
  return files;
}

} // namespace

RegistriesConf parse_registries_conf(const std::string& text, const std::string& file)
{
  toml::table doc;
  try {
    doc = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    bad(file, e.source().begin.line, "not TOML: " + util::printable(std::string(e.description())));
  }
  RegistriesConf conf;
  conf.files.push_back(file);
  const toml::node* list = doc.get("registry");
  if (!list) return conf;
  if (!list->is_array()) bad(file, line_of(*list), "'registry' must be an array of tables ([[registry]])");
  std::map<std::string, std::uint32_t> seen;
  for (const toml::node& node : *list->as_array()) {
    if (!node.is_table()) bad(file, line_of(node), "a [[registry]] must be a table");
    RegistryEntry e = registry_of(*node.as_table(), file, line_of(node));
    if (const auto it = seen.find(e.prefix); it != seen.end()) {
      bad(file, e.source.line,
          "the prefix '" + util::printable(e.prefix) + "' is given twice (first at line " + std::to_string(it->second) +
              ")");
    }
    seen.emplace(e.prefix, e.source.line);
    conf.registries.push_back(std::move(e));
  }
  std::sort(conf.registries.begin(), conf.registries.end(),
            [](const RegistryEntry& a, const RegistryEntry& b) { return a.prefix < b.prefix; });
  return conf;
}

void RegistriesConf::merge(RegistriesConf later)
{
  for (auto& e : later.registries) {
    const auto same = std::find_if(registries.begin(), registries.end(),
                                   [&](const RegistryEntry& r) { return r.prefix == e.prefix; });
    if (same != registries.end()) {
      *same = std::move(e);
    } else {
      registries.push_back(std::move(e));
    }
  }
  std::sort(registries.begin(), registries.end(),
            [](const RegistryEntry& a, const RegistryEntry& b) { return a.prefix < b.prefix; });
  files.insert(files.end(), later.files.begin(), later.files.end());
}

const RegistryEntry* RegistriesConf::find(const std::string& name) const
{
  const RegistryEntry* best = nullptr;
  size_t best_length = 0;
  const std::string host = name.substr(0, name.find('/'));
  for (const auto& e : registries) {
    bool match = false;
    if (e.prefix.rfind("*.", 0) == 0) {
      match = host_below(host, e.prefix);
    } else {
      match = name.rfind(e.prefix, 0) == 0 && (name.size() == e.prefix.size() || name[e.prefix.size()] == '/');
    }
    if (match && (best == nullptr || e.prefix.size() > best_length)) {
      best = &e;
      best_length = e.prefix.size();
    }
  }
  return best;
}

std::string rewrite_name(const RegistryEntry& entry, const std::string& location, const std::string& name)
{
  if (location.empty()) return name;
  // A wildcard prefix matched the host of name: a mirror of it replaces that host.
  const size_t matched = entry.prefix.rfind("*.", 0) == 0 ? std::min(name.find('/'), name.size()) : entry.prefix.size();
  return location + name.substr(matched);
}

RegistriesConf load_registries_conf(const std::string& home)
{
  const std::string user_file = home.empty() ? "" : home + "/.config/containers/registries.conf";
  const std::string user_dir = home.empty() ? "" : home + "/.config/containers/registries.conf.d";
  std::string main_file;
  std::vector<std::string> dirs;
  const char* env = std::getenv("CONTAINERS_REGISTRIES_CONF");
  if (env && *env) {
    main_file = env;
    dirs = {"/etc/containers/registries.conf.d", user_dir};
  } else if (!user_file.empty() && util::is_regular_file(user_file)) {
    main_file = user_file; // a file of the user's own: the system's files are not read
    dirs = {user_dir};
  } else {
    main_file = "/etc/containers/registries.conf";
    dirs = {"/etc/containers/registries.conf.d", user_dir};
  }
  RegistriesConf conf;
  if (util::is_regular_file(main_file)) conf = parse_registries_conf(util::read_file(main_file), main_file);
  for (const auto& dir : dirs) {
    if (dir.empty()) continue;
    for (const auto& file : drop_ins(dir)) conf.merge(parse_registries_conf(util::read_file(file), file));
  }
  return conf;
}

const RegistriesConf& registries_conf()
{
  static const RegistriesConf conf = [] {
    const char* home = std::getenv("HOME");
    return load_registries_conf(home ? home : "");
  }();
  return conf;
}

} // namespace reproimg::registry
