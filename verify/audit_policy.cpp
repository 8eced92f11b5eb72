// Reading the audit policy with yaml-cpp, and applying it to the findings.
#include "verify/audit_policy.hpp"

#include "normalize/path.hpp"
#include "util/error.hpp"
#include "util/file.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

namespace reproimg::verify {

namespace {

constexpr std::uint64_t k_max_policy_size = 1u << 20;

[[noreturn]] void refuse(const std::string& file, const YAML::Node& at, const std::string& message)
{
  throw util::Error(util::Location::of_line(file, at.Mark().line + 1), message);
}

std::string scalar(const std::string& file, const YAML::Node& n, const std::string& what)
{
  if (!n.IsScalar()) refuse(file, n, what + ": want a string");
  return n.Scalar();
}

Severity severity(const std::string& file, const YAML::Node& n, const std::string& what)
{
  const std::string s = scalar(file, n, what);
  const auto sev = report::parse_severity(s);
  if (!sev)
    refuse(file, n, what + ": unknown severity '" + util::printable(s) + "' (want " + report::severity_list() + ")");
  return *sev;
}

void check_id(const std::string& file, const YAML::Node& n, const std::string& id)
{
  if (!find_check(id)) refuse(file, n, "unknown check '" + util::printable(id) + "' (see reproimg audit --help)");
}

void read_severities(const std::string& file, const YAML::Node& map, AuditPolicy& p)
{
  if (!map.IsMap()) refuse(file, map, "severities: want a map of check: severity");
  for (const auto& kv : map) {
    const std::string id = scalar(file, kv.first, "severities");
    check_id(file, kv.first, id);
    p.severities[id] = severity(file, kv.second, "severities." + id);
  }
}

PolicyAllowance read_allowance(const std::string& file, const YAML::Node& item)
{
  if (!item.IsMap()) refuse(file, item, "allow: want a list of maps with check, paths and reason");
  PolicyAllowance a;
  std::vector<std::string> globs;
  bool has_reason = false;
  for (const auto& kv : item) {
    const std::string key = scalar(file, kv.first, "allow");
    if (key == "check") {
      a.check = scalar(file, kv.second, "allow.check");
      check_id(file, kv.second, a.check);
    } else if (key == "reason") {
      a.reason = scalar(file, kv.second, "allow.reason");
      has_reason = true;
    } else if (key == "path") {
      globs.push_back(scalar(file, kv.second, "allow.path"));
    } else if (key == "paths") {
      if (!kv.second.IsSequence()) refuse(file, kv.second, "allow.paths: want a list of globs");
      for (const auto& g : kv.second) globs.push_back(scalar(file, g, "allow.paths"));
    } else {
      refuse(file, kv.first, "allow: unknown key '" + util::printable(key) + "' (want check, path, paths, reason)");
    }
  }
  if (a.check.empty()) refuse(file, item, "allow: an allowance without a check");
  const auto blank = a.reason.find_first_not_of(" \t\r\n");
  if (!has_reason || blank == std::string::npos)
    refuse(file, item, "allow: the allowance of " + a.check + " has no reason (a reason is mandatory)");
  a.where = file + ":" + std::to_string(item.Mark().line + 1);
  for (auto& g : globs) {
    while (!g.empty() && g.front() == '/') g.erase(0, 1);
  }
  std::string joined;
  for (const auto& g : globs) joined += (joined.empty() ? "" : "\n") + g;
  a.glob = joined;
  return a;
}

YAML::Node load(const std::string& path)
{
  const std::string text = util::read_file(path);
  if (text.size() > k_max_policy_size) throw util::Error(util::Location::of(path), "a policy file larger than 1 MiB");
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw util::Error(util::Location::of_line(path, e.mark.line + 1), "not YAML: " + e.msg);
  }
}

std::vector<std::string> split_globs(const std::string& joined)
{
  std::vector<std::string> out;
  size_t p = 0;
  while (p <= joined.size() && !joined.empty()) {
    const size_t nl = joined.find('\n', p);
    out.push_back(joined.substr(p, nl == std::string::npos ? std::string::npos : nl - p));
    if (nl == std::string::npos) break;
    p = nl + 1;
  }
  return out;
}

bool allows(const PolicyAllowance& a, const Finding& f)
{
  if (a.check != f.check) return false;
  const auto globs = split_globs(a.glob);
  if (globs.empty()) return true;
  if (f.paths.empty()) return false;
  return std::all_of(f.paths.begin(), f.paths.end(), [&](const std::string& p) {
    return std::any_of(globs.begin(), globs.end(),
                       [&](const std::string& g) { return normalize::glob_matches_path_or_parent(g, p); });
  });
}

} // namespace

AuditPolicy read_audit_policy(const std::string& path)
{
  const YAML::Node root = load(path);
  AuditPolicy p;
  if (root.IsNull()) return p;
  if (!root.IsMap()) refuse(path, root, "want a map with version, fail-on, severities and allow");
  for (const auto& kv : root) {
    const std::string key = scalar(path, kv.first, "policy");
    if (key == "version") {
      if (scalar(path, kv.second, "version") != "1") refuse(path, kv.second, "version: this reproimg reads version 1");
    } else if (key == "fail-on") {
      p.fail_on = severity(path, kv.second, "fail-on");
    } else if (key == "severities") {
      read_severities(path, kv.second, p);
    } else if (key == "allow") {
      if (!kv.second.IsSequence()) refuse(path, kv.second, "allow: want a list");
      for (const auto& item : kv.second) p.allowances.push_back(read_allowance(path, item));
    } else {
      refuse(path, kv.first, "unknown key '" + util::printable(key) + "' (want version, fail-on, severities, allow)");
    }
  }
  return p;
}

void apply_policy(const AuditPolicy& policy, std::vector<Finding>& findings)
{
  const auto in_force = [&](const std::string& id) {
    const auto it = policy.severities.find(id);
    return it != policy.severities.end() ? it->second : find_check(id)->severity;
  };
  for (auto& f : findings) {
    f.severity = in_force(f.check);
    if (f.check == "hidden-by-later-layer" && f.attributes.value("secret", false)) {
      f.severity = std::max(f.severity, in_force("private-key"));
    }
    for (const auto& a : policy.allowances) {
      if (allows(a, f)) {
        f.allowed = report::Allowance{a.glob, a.reason, a.where};
        break;
      }
    }
  }
}

std::vector<report::CheckInfo> checks_in_force(const AuditPolicy& policy)
{
  std::vector<report::CheckInfo> out;
  for (const auto& c : audit_checks()) {
    const auto it = policy.severities.find(c.id);
    out.push_back({c.id, c.group, it != policy.severities.end() ? it->second : c.severity, c.description, c.fix});
  }
  return out;
}

} // namespace reproimg::verify
