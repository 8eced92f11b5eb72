// The variations of `reproimg rebuild`: control and varied values, and what this machine offers.
#include "verify/rebuild_variations.hpp"

#include <cstring>
#include <glob.h>
#include <locale.h>
#include <sched.h>
#include <unistd.h>

extern char** environ;

namespace reproimg::verify {

namespace {

struct VariationName {
  Variation variation;
  const char* name;
  const char* description;
};

const VariationName k_variations[] = {
    {Variation::build_path, "build-path", "the copy lives under another absolute path, of another length"},
    {Variation::time, "time", "the clock moved 400 days ahead (libfaketime, FAKETIME=+400d)"},
    {Variation::timezone, "timezone", "TZ=GMT-14 (control: UTC0)"},
    {Variation::locale, "locale", "LANG and LC_ALL set to a locale that sorts unlike C (control: C.UTF-8)"},
    {Variation::umask, "umask", "umask 0002 (control: 0022)"},
    {Variation::home, "home", "HOME=/nonexistent/reproimg-rebuild-home (control: as inherited)"},
    {Variation::user, "user", "USER and LOGNAME=reproimg-rebuild-user (control: as inherited)"},
    {Variation::env, "env", "an unrelated variable, REPROIMG_REBUILD_EXTRA=varied"},
    {Variation::cpus, "cpus", "one CPU (sched_setaffinity; control: every CPU this process may use)"},
    {Variation::file_order, "file-order", "directory entries listed in reverse sorted order (disorderfs)"},
};

const VariationName& entry(Variation v)
{
  for (const auto& e : k_variations) {
    if (e.variation == v) return e;
  }
  return k_variations[0];
}

std::string find_faketime()
{
  const char* patterns[] = {"/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1",
                            "/usr/local/lib/faketime/libfaketime.so.1", "/usr/lib64/faketime/libfaketime.so.1"};
  for (const char* pattern : patterns) {
    glob_t g{};
    std::string found;
    if (::glob(pattern, 0, nullptr, &g) == 0 && g.gl_pathc > 0) found = g.gl_pathv[0];
    ::globfree(&g);
    if (!found.empty()) return found;
  }
  return "";
}

// A locale installed here whose collation puts "a" before "B" (C puts it after).
std::string find_sorting_locale()
{
  for (const char* name : {"en_US.UTF-8", "en_GB.UTF-8", "de_DE.UTF-8", "fr_FR.UTF-8", "es_ES.UTF-8"}) {
    locale_t loc = ::newlocale(LC_COLLATE_MASK, name, static_cast<locale_t>(nullptr));
    if (!loc) continue;
    const bool differs = ::strcoll_l("a", "B", loc) < 0;
    ::freelocale(loc);
    if (differs) return name;
  }
  return "";
}

std::optional<int> find_single_cpu()
{
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) < 2) return std::nullopt;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) return cpu;
  }
  return std::nullopt;
}

std::string skip_reason(Variation v, const Host& host)
{
  switch (v) {
  case Variation::time: return host.faketime_library.empty() ? "libfaketime not found (Debian package faketime)" : "";
  case Variation::locale:
    return host.sorting_locale.empty() ? "no installed locale sorts unlike C (locale -a; Debian package locales-all)"
                                       : "";
  case Variation::cpus: return host.single_cpu ? "" : "this process may run on one CPU only";
  case Variation::file_order: return host.file_order_problem;
  default: return "";
  }
}

bool has(const std::set<Variation>& set, Variation v)
{
  return set.count(v) > 0;
}

void set_locale(std::map<std::string, std::string>& env, const std::string& name)
{
  for (auto it = env.begin(); it != env.end();) {
    it = it->first.rfind("LC_", 0) == 0 || it->first == "LANGUAGE" ? env.erase(it) : std::next(it);
  }
  env["LANG"] = name;
  env["LC_ALL"] = name;
}

} // namespace

const char* variation_name(Variation v)
{
  return entry(v).name;
}

std::string variation_description(Variation v)
{
  return entry(v).description;
}

std::optional<Variation> parse_variation(const std::string& name)
{
  for (const auto& e : k_variations) {
    if (name == e.name) return e.variation;
  }
  return std::nullopt;
}

const std::vector<Variation>& all_variations()
{
  static const std::vector<Variation> all = [] {
    std::vector<Variation> out;
    for (const auto& e : k_variations) out.push_back(e.variation);
    return out;
  }();
  return all;
}

std::string variation_list()
{
  std::string out;
  for (const auto& e : k_variations) out += (out.empty() ? "" : ", ") + std::string(e.name);
  return out;
}

const char* variation_state_name(VariationState s)
{
  switch (s) {
  case VariationState::varied: return "varied";
  case VariationState::skipped: return "skipped";
  case VariationState::not_requested: return "not-requested";
  }
  return "not-requested";
}

Host probe_host()
{
  Host host;
  host.faketime_library = find_faketime();
  host.sorting_locale = find_sorting_locale();
  host.single_cpu = find_single_cpu();
  return host;
}

std::vector<VariationStatus> variation_statuses(const std::set<Variation>& requested, const Host& host)
{
  std::vector<VariationStatus> out;
  for (const Variation v : all_variations()) {
    VariationStatus s;
    s.variation = v;
    if (has(requested, v)) {
      s.reason = skip_reason(v, host);
      s.state = s.reason.empty() ? VariationState::varied : VariationState::skipped;
    }
    out.push_back(std::move(s));
  }
  return out;
}

RunConditions run_conditions(const std::set<Variation>& varied, const Host& host,
                             const std::map<std::string, std::string>& base, std::int64_t epoch)
{
  RunConditions c;
  c.env = base;
  c.env.erase("FAKETIME");
  c.env.erase("REPROIMG_REBUILD_EXTRA");
  c.env["SOURCE_DATE_EPOCH"] = std::to_string(epoch);
  c.env["TZ"] = has(varied, Variation::timezone) ? "GMT-14" : "UTC0";
  set_locale(c.env, has(varied, Variation::locale) ? host.sorting_locale : "C.UTF-8");
  c.umask = has(varied, Variation::umask) ? 0002 : 0022;
  if (has(varied, Variation::home)) c.env["HOME"] = "/nonexistent/reproimg-rebuild-home";
  if (has(varied, Variation::user)) {
    c.env["USER"] = "reproimg-rebuild-user";
    c.env["LOGNAME"] = "reproimg-rebuild-user";
  }
  if (has(varied, Variation::env)) c.env["REPROIMG_REBUILD_EXTRA"] = "varied";
  if (has(varied, Variation::time)) {
    const auto it = c.env.find("LD_PRELOAD");
    const std::string rest = it == c.env.end() || it->second.empty() ? "" : ":" + it->second;
    c.env["LD_PRELOAD"] = host.faketime_library + rest;
    c.env["FAKETIME"] = "+400d";
  }
  if (has(varied, Variation::cpus)) c.cpu = host.single_cpu;
  c.varied_build_path = has(varied, Variation::build_path);
  c.shuffled_dirents = has(varied, Variation::file_order);
  return c;
}

std::map<std::string, std::string> current_environment()
{
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) env.emplace(std::string(*e, static_cast<std::size_t>(eq - *e)), std::string(eq + 1));
  }
  return env;
}

} // namespace reproimg::verify
