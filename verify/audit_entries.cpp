// Checks on entries as a layer is read: modes, devices, secrets by name and by content, embedded
// build times (diff's explainers), volatile files (normalize's debian profile, as diff sees it).
#include "verify/audit_entries.hpp"

#include "diff/compare.hpp"
#include "diff/content_detail.hpp"
#include "image/json.hpp"
#include "image/overlay.hpp"
#include "normalize/path.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace reproimg::verify {

namespace {

using readers::EntryType;

constexpr std::uint64_t k_scan_bytes = 64u << 10;       // read of a file looked into for PEM keys and tokens
constexpr std::uint64_t k_scan_max_size = 1u << 20;     // files larger are not scanned for keys
constexpr std::uint64_t k_header_bytes = 4096;          // gzip and .pyc headers
constexpr std::uint64_t k_archive_max_size = 64u << 20; // zip/jar and ar looked into whole up to this size

bool ends_with(const std::string& s, const char* suffix)
{
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string base_name(const std::string& path)
{
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool header_format(const std::string& path)
{
  return ends_with(path, ".gz") || ends_with(path, ".tgz") || ends_with(path, ".svgz") || ends_with(path, ".pyc");
}

bool archive_format(const std::string& path)
{
  for (const char* s : {".zip", ".jar", ".war", ".ear", ".whl", ".egg", ".apk", ".a", ".deb", ".udeb"}) {
    if (ends_with(path, s)) return true;
  }
  return false;
}

// Credential files known by their path (a name, or a name under a directory).
const char* credential_file(const std::string& path)
{
  const std::string base = base_name(path);
  for (const char* key : {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"}) {
    if (base == key) return "an ssh private key";
  }
  if (base.rfind("ssh_host_", 0) == 0 && ends_with(base, "_key")) return "an ssh host private key";
  struct Known {
    const char* suffix;
    const char* what;
  };
  static const Known k_known[] = {
      {".aws/credentials", "AWS credentials"},
      {".config/gcloud/credentials.db", "Google Cloud credentials"},
      {".config/gcloud/application_default_credentials.json", "Google Cloud credentials"},
      {".config/gcloud/access_tokens.db", "Google Cloud credentials"},
      {".azure/accessTokens.json", "Azure credentials"},
      {".azure/msal_token_cache.json", "Azure credentials"},
      {".kube/config", "a Kubernetes client config"},
      {".git-credentials", "git credentials"},
      {".netrc", "netrc credentials"},
      {".docker/config.json", "a Docker client config (registry auths)"},
  };
  for (const auto& k : k_known) {
    if (path == k.suffix || ends_with(path, (std::string("/") + k.suffix).c_str())) return k.what;
  }
  return nullptr;
}

// What a content holds that is a secret: a PEM private key, a registry token.
const char* secret_content(const std::string& path, const std::string& bytes)
{
  const auto begin = bytes.find("-----BEGIN ");
  if (begin != std::string::npos) {
    const auto end = bytes.find("-----", begin + 11);
    if (end != std::string::npos && end - begin < 80) {
      const std::string label = bytes.substr(begin + 11, end - begin - 11);
      if (ends_with(label, "PRIVATE KEY")) return "a PEM private key";
    }
  }
  const std::string base = base_name(path);
  if (base == ".npmrc" && (bytes.find("_authToken") != std::string::npos || bytes.find("_auth=") != std::string::npos ||
                           bytes.find("_password") != std::string::npos)) {
    return "an npm registry token";
  }
  if (base == ".pypirc" && bytes.find("password") != std::string::npos) return "a PyPI password";
  return nullptr;
}

bool is_account_file(const std::string& path)
{
  return path == "etc/passwd" || path == "etc/group" || path == "etc/shadow";
}

std::string octal(std::uint32_t mode)
{
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

} // namespace

std::string audit_path(const std::string& raw)
{
  const normalize::CanonicalPath c = normalize::canonical_path(raw);
  return c.status == normalize::PathStatus::ok ? c.path : std::string();
}

std::uint64_t EntryChecks::content_wanted(const readers::SourceEntry& entry) const
{
  if (entry.size == 0) return 0;
  const std::string path = audit_path(entry.path);
  if (path.empty()) return 0;
  if (is_account_file(path)) return k_archive_max_size;
  if (archive_format(path) && entry.size <= k_archive_max_size) return entry.size;
  std::uint64_t want = header_format(path) ? k_header_bytes : 0;
  if (entry.size <= k_scan_max_size) want = std::max(want, k_scan_bytes);
  return want;
}

void EntryChecks::on_content(const readers::SourceEntry& entry, const std::string& bytes)
{
  const std::string path = audit_path(entry.path);
  if (path.empty()) return;
  if (is_account_file(path)) m_layer.accounts[path] = bytes;
  if (const char* what = secret_content(path, bytes)) {
    Finding f = make_finding("private-key", m_layer.number, {path}, std::string("holds ") + what);
    f.attributes["size"] = entry.size;
    m_content_findings[path] = "private-key";
    add(std::move(f));
  }
  if (header_format(path) || archive_format(path)) {
    const bool complete = bytes.size() >= entry.size;
    if (const auto t = diff::embedded_time(path, bytes, complete, m_epoch)) {
      std::string reason = t->format + " " + t->field.substr(t->field.find('.') + 1) + " " + image::rfc3339(t->time);
      if (!t->member.empty()) reason += " (" + t->member + ")";
      Finding f = make_finding("embedded-timestamp", m_layer.number, {path}, "carries a build time: " + reason);
      f.attributes["format"] = t->format;
      f.attributes["field"] = t->field;
      f.attributes["time"] = image::rfc3339(t->time);
      if (!t->member.empty()) f.attributes["member"] = t->member;
      add(std::move(f));
    }
  }
}

void EntryChecks::on_entry(const readers::SourceEntry& entry, const std::string&)
{
  AuditEntry e;
  e.path = audit_path(entry.path);
  if (e.path.empty()) return;
  e.type = entry.type;
  e.mode = entry.mode & 07777;
  e.uid = entry.uid;
  e.gid = entry.gid;
  e.mtime = entry.mtime;
  e.size = entry.type == EntryType::regular ? entry.size : 0;
  if (entry.type == EntryType::hardlink) e.link_target = audit_path(entry.link_target);
  if (entry.type == EntryType::symlink) e.link_target = entry.link_target;
  e.whiteout = image::classify_layer_path(e.path).kind != image::LayerPath::Kind::entry;
  if (entry.type == EntryType::regular) m_layer.tar_bytes += entry.size;
  if (!e.whiteout) {
    check_modes(e);
    check_secret_path(e);
    check_volatile(e);
  }
  const auto [it, inserted] = m_slot.emplace(e.path, m_layer.entries.size());
  if (inserted) {
    m_layer.entries.push_back(std::move(e));
  } else {
    m_layer.entries[it->second] = std::move(e);
  }
}

void EntryChecks::check_modes(const AuditEntry& e)
{
  if ((e.type == EntryType::regular) && (e.mode & 06000)) {
    const std::string what = (e.mode & 04000) && (e.mode & 02000) ? "setuid and setgid"
                             : (e.mode & 04000)                   ? "setuid"
                                                                  : "setgid";
    Finding f = make_finding("setuid", m_layer.number, {e.path},
                             what + " (mode " + octal(e.mode) + ", owner " + std::to_string(e.uid) + ":" +
                                 std::to_string(e.gid) + ")");
    f.attributes["mode"] = octal(e.mode);
    f.attributes["uid"] = e.uid;
    f.attributes["gid"] = e.gid;
    add(std::move(f));
  }
  const bool dir_unsticky = e.type == EntryType::directory && (e.mode & 01000) == 0;
  if ((e.mode & 0002) && (e.type == EntryType::regular || dir_unsticky)) {
    Finding f =
        make_finding("world-writable", m_layer.number, {e.path},
                     std::string(e.type == EntryType::directory ? "a directory anyone may write, without the sticky bit"
                                                                : "a file anyone may write") +
                         " (mode " + octal(e.mode) + ")");
    f.attributes["mode"] = octal(e.mode);
    add(std::move(f));
  }
  if ((e.type == EntryType::chardev || e.type == EntryType::blockdev) && e.path.rfind("dev/", 0) != 0) {
    add(make_finding("device-node", m_layer.number, {e.path},
                     std::string(e.type == EntryType::chardev ? "a character" : "a block") + " device outside dev/"));
  }
}

void EntryChecks::check_secret_path(const AuditEntry& e)
{
  // A .git directory: once, at its top (its content is the repository, history and all).
  const bool top = e.path == ".git" || e.path.rfind(".git/", 0) == 0;
  const auto git = top ? 0 : e.path.find("/.git");
  if (git != std::string::npos) {
    const size_t end = git == 0 ? 4 : git + 5;
    if (end == e.path.size() || e.path[end] == '/') {
      const std::string dir = e.path.substr(0, end);
      if (!m_git_dirs.count(dir)) {
        m_git_dirs[dir] = true;
        m_layer.secret_paths[dir] = "private-key";
        add(make_finding("private-key", m_layer.number, {dir},
                         "a .git directory (the repository's history, remotes and credentials)"));
      }
      return;
    }
  }
  if (e.type != EntryType::regular) return;
  if (const char* what = credential_file(e.path)) {
    m_layer.secret_paths[e.path] = "private-key";
    if (m_content_findings.count(e.path)) return; // already said by its content
    Finding f = make_finding("private-key", m_layer.number, {e.path}, std::string("holds ") + what);
    f.attributes["size"] = e.size;
    add(std::move(f));
  } else if (m_content_findings.count(e.path)) {
    m_layer.secret_paths[e.path] = "private-key";
  }
}

void EntryChecks::check_volatile(const AuditEntry& e)
{
  if (e.type != EntryType::regular) return;
  const diff::ProfileRule rule = diff::debian_profile_rule(e.path);
  std::string key;
  if (rule.action == diff::ProfileAction::drops) {
    key = "the debian profile drops " + rule.glob;
  } else if (rule.action == diff::ProfileAction::empties && e.size > 0) {
    key = "the debian profile empties " + rule.glob;
  } else if (rule.action == diff::ProfileAction::none && e.size > 0 &&
             (e.path == "etc/hostname" || e.path == "etc/resolv.conf" || e.path.rfind("var/log/", 0) == 0 ||
              e.path.rfind("var/cache/", 0) == 0)) {
    // diff::is_volatile_path beyond the profile: logs and caches.
    key = e.path.rfind("var/", 0) == 0 ? "a log or cache under " + e.path.substr(0, e.path.find('/', 4) + 1)
                                       : "the build host's " + e.path;
  }
  if (!key.empty()) m_volatile[key].push_back(e.path);
}

void EntryChecks::finish()
{
  for (auto& [rule, paths] : m_volatile) {
    std::sort(paths.begin(), paths.end());
    const std::string count = std::to_string(paths.size()) + (paths.size() == 1 ? " file" : " files");
    Finding f = make_finding("volatile-file", m_layer.number, paths, count + ": " + rule);
    f.attributes["count"] = paths.size();
    add(std::move(f));
  }
}

void EntryChecks::add(Finding f)
{
  m_out.push_back(std::move(f));
}

} // namespace reproimg::verify
