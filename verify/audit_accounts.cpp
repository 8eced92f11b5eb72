// Whole-image checks: accounts, owners, config and times.
#include "verify/audit_accounts.hpp"

#include "image/json.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>

namespace reproimg::verify {

namespace {

constexpr std::size_t k_paths_per_finding = 20;

std::vector<std::vector<std::string>> colon_records(const std::string& text)
{
  std::vector<std::vector<std::string>> out;
  size_t p = 0;
  while (p < text.size()) {
    size_t nl = text.find('\n', p);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(p, nl - p);
    p = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    size_t q = 0;
    for (;;) {
      const size_t c = line.find(':', q);
      fields.push_back(line.substr(q, c == std::string::npos ? std::string::npos : c - q));
      if (c == std::string::npos) break;
      q = c + 1;
    }
    out.push_back(std::move(fields));
  }
  return out;
}

std::optional<std::int64_t> number(const std::string& s)
{
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// The ids a file defines (field: 2 for passwd uids, 2 for group gids), with the names per id.
std::map<std::int64_t, std::vector<std::string>> ids_of(const std::string& text, size_t field)
{
  std::map<std::int64_t, std::vector<std::string>> out;
  for (const auto& r : colon_records(text)) {
    if (r.size() > field) {
      if (const auto id = number(r[field])) out[*id].push_back(r[0]);
    }
  }
  return out;
}

void duplicates(const std::string& text, size_t field, const char* path, const char* what, std::optional<int> layer,
                std::vector<Finding>& out)
{
  for (const auto& [id, names] : ids_of(text, field)) {
    if (names.size() < 2) continue;
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    Finding f = make_finding("duplicate-id", layer, {path},
                             std::string(what) + " " + std::to_string(id) + " is shared by " + list);
    f.attributes["id"] = id;
    f.attributes["names"] = names;
    out.push_back(std::move(f));
  }
}

bool credential_name(std::string name)
{
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (name.size() > 5 && name.compare(name.size() - 5, 5, "_FILE") == 0) return false; // names a file
  for (const char* word : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY",
                           "CREDENTIAL", "AUTH_KEY", "_AUTH", "PASSPHRASE"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string config_string(const nlohmann::json& config, const char* key)
{
  if (!config.is_object() || !config.contains("config") || !config["config"].is_object()) return "";
  const auto& c = config["config"];
  return c.contains(key) && c[key].is_string() ? c[key].get<std::string>() : "";
}

} // namespace

std::optional<std::int64_t> parse_rfc3339(const std::string& t)
{
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (t.size() < 20 || std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6)
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  std::int64_t yy = y - (mo <= 2 ? 1 : 0);
  const std::int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  const std::int64_t yoe = yy - era * 400;
  const std::int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  std::int64_t secs = (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + s;
  size_t p = 19;
  while (p < t.size() && (t[p] == '.' || std::isdigit(static_cast<unsigned char>(t[p])))) ++p;
  if (p < t.size() && (t[p] == '+' || t[p] == '-') && p + 6 <= t.size()) {
    const int oh = std::atoi(t.substr(p + 1, 2).c_str());
    const int om = std::atoi(t.substr(p + 4, 2).c_str());
    secs -= (t[p] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  }
  return secs;
}

void check_accounts(const AccountFiles& files, std::optional<std::int64_t> epoch, std::vector<Finding>& out)
{
  if (files.passwd) duplicates(*files.passwd, 2, "etc/passwd", "uid", files.passwd_layer, out);
  if (files.group) duplicates(*files.group, 2, "etc/group", "gid", std::nullopt, out);
  if (files.passwd) {
    for (const auto& r : colon_records(*files.passwd)) {
      if (r.size() >= 2 && r[1].empty()) {
        out.push_back(make_finding("empty-password", files.passwd_layer, {"etc/passwd"},
                                   "account " + r[0] + " has an empty password field in etc/passwd"));
      }
    }
  }
  if (!files.shadow) return;
  std::vector<std::string> stale;
  for (const auto& r : colon_records(*files.shadow)) {
    if (r.size() >= 2 && r[1].empty()) {
      out.push_back(make_finding("empty-password", files.shadow_layer, {"etc/shadow"},
                                 "account " + r[0] + " has an empty password in etc/shadow"));
    }
    if (epoch && r.size() >= 3 && !r[2].empty() && number(r[2]) != *epoch / 86400) stale.push_back(r[0] + "=" + r[2]);
  }
  if (!stale.empty()) {
    std::string list;
    for (const auto& s : stale) list += (list.empty() ? "" : ", ") + s;
    Finding f =
        make_finding("volatile-file", files.shadow_layer, {"etc/shadow"},
                     std::to_string(stale.size()) + " accounts' last password change is not SOURCE_DATE_EPOCH's day " +
                         std::to_string(*epoch / 86400) + ": " + list);
    f.attributes["accounts"] = stale;
    out.push_back(std::move(f));
  }
}

void check_owners(const AccountFiles& files, const std::vector<LayerData>& layers, std::vector<Finding>& out,
                  std::vector<std::string>& notes)
{
  if (!files.passwd) {
    notes.emplace_back("unknown-owner: not checked, the image has no etc/passwd");
    return;
  }
  const auto uids = ids_of(*files.passwd, 2);
  const auto gids = files.group ? ids_of(*files.group, 2) : std::map<std::int64_t, std::vector<std::string>>{};
  for (const auto& layer : layers) {
    std::map<std::pair<char, std::int64_t>, std::vector<std::string>> unknown;
    for (const auto& e : layer.entries) {
      if (e.whiteout) continue;
      if (!uids.count(e.uid)) unknown[{'u', e.uid}].push_back(e.path);
      if (files.group && !gids.count(e.gid)) unknown[{'g', e.gid}].push_back(e.path);
    }
    for (auto& [key, paths] : unknown) {
      const std::size_t count = paths.size();
      std::sort(paths.begin(), paths.end());
      if (paths.size() > k_paths_per_finding) paths.resize(k_paths_per_finding);
      const std::string what = key.first == 'u' ? "uid " : "gid ";
      Finding f = make_finding("unknown-owner", layer.number, paths,
                               std::to_string(count) + (count == 1 ? " entry is" : " entries are") + " owned by " +
                                   what + std::to_string(key.second) + ", which " +
                                   (key.first == 'u' ? "etc/passwd" : "etc/group") + " does not define");
      f.attributes[key.first == 'u' ? "uid" : "gid"] = key.second;
      f.attributes["count"] = count;
      out.push_back(std::move(f));
    }
  }
}

void check_config(const nlohmann::json& config, std::vector<Finding>& out)
{
  if (!config.is_object()) return;
  const auto& c = config.contains("config") && config["config"].is_object() ? config["config"] : nlohmann::json();
  if (c.is_object() && c.contains("Env") && c["Env"].is_array()) {
    for (size_t i = 0; i < c["Env"].size(); ++i) {
      if (!c["Env"][i].is_string()) continue;
      const std::string kv = c["Env"][i].get<std::string>();
      const auto eq = kv.find('=');
      const std::string name = kv.substr(0, eq);
      const std::size_t length = eq == std::string::npos ? 0 : kv.size() - eq - 1;
      if (length == 0 || !credential_name(name)) continue;
      Finding f = make_finding("secret-env", std::nullopt, {"config:/config/Env/" + std::to_string(i)},
                               "Env " + name + " looks like a credential (a value of " + std::to_string(length) +
                                   " characters, not shown)");
      f.attributes["name"] = name;
      out.push_back(std::move(f));
    }
  }
  const std::string user = config_string(config, "User");
  const std::string name = user.substr(0, user.find(':'));
  if (name.empty() || name == "root" || name == "0") {
    out.push_back(
        make_finding("root-user", std::nullopt, {"config:/config/User"},
                     user.empty() ? "the config sets no User: containers run as root" : "User is " + user + ": root"));
  }
}

void check_times(const nlohmann::json& config, const std::vector<LayerData>& layers, std::int64_t window,
                 std::vector<Finding>& out)
{
  std::optional<std::int64_t> newest_all;
  std::optional<std::int64_t> created;
  if (config.is_object() && config.contains("created") && config["created"].is_string()) {
    created = parse_rfc3339(config["created"].get<std::string>());
  }
  for (const auto& layer : layers) {
    std::optional<std::int64_t> newest;
    for (const auto& e : layer.entries) {
      if (!e.whiteout && (!newest || e.mtime > *newest)) newest = e.mtime;
    }
    if (!newest) continue;
    newest_all = std::max(newest_all.value_or(*newest), *newest);
    std::set<std::int64_t> recent;
    std::size_t count = 0;
    std::size_t after_created = 0;
    for (const auto& e : layer.entries) {
      if (e.whiteout) continue;
      if (e.mtime > *newest - window) {
        recent.insert(e.mtime);
        ++count;
      }
      if (created && e.mtime > *created) ++after_created;
    }
    if (recent.size() > 1) {
      Finding f = make_finding("mtime-spread", layer.number, {},
                               std::to_string(count) + " entries have " + std::to_string(recent.size()) +
                                   " distinct mtimes from " + image::rfc3339(*recent.begin()) + " to " +
                                   image::rfc3339(*recent.rbegin()) + " (" +
                                   std::to_string(*recent.rbegin() - *recent.begin()) +
                                   " s): build times, not clamped to one SOURCE_DATE_EPOCH");
      f.attributes["entries"] = count;
      f.attributes["distinct_mtimes"] = recent.size();
      f.attributes["first"] = image::rfc3339(*recent.begin());
      f.attributes["last"] = image::rfc3339(*recent.rbegin());
      out.push_back(std::move(f));
    }
    if (after_created > 0) {
      Finding f = make_finding("mtime-spread", layer.number, {},
                               std::to_string(after_created) + " entries have mtimes later than the config's created " +
                                   image::rfc3339(*created));
      f.attributes["entries"] = after_created;
      out.push_back(std::move(f));
    }
  }
  if (!newest_all || !config.is_object()) return;
  std::vector<std::pair<std::string, std::int64_t>> times;
  if (created) times.emplace_back("config:/created", *created);
  if (config.contains("history") && config["history"].is_array()) {
    for (size_t i = 0; i < config["history"].size(); ++i) {
      const auto& h = config["history"][i];
      if (h.is_object() && h.contains("created") && h["created"].is_string()) {
        if (const auto t = parse_rfc3339(h["created"].get<std::string>()))
          times.emplace_back("config:/history/" + std::to_string(i) + "/created", *t);
      }
    }
  }
  for (const auto& [where, t] : times) {
    if (t <= *newest_all + window) continue;
    Finding f =
        make_finding("mtime-spread", std::nullopt, {where},
                     image::rfc3339(t) + " is " + std::to_string(t - *newest_all) + " s after the newest mtime " +
                         image::rfc3339(*newest_all) + ": the clock of the build, not SOURCE_DATE_EPOCH");
    f.attributes["time"] = image::rfc3339(t);
    out.push_back(std::move(f));
  }
}

} // namespace reproimg::verify
