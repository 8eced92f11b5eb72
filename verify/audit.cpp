// The audit's one pass: each layer read once through normalize's pipeline (its canonical diff_id
// and what it would change, by diff's causes) with the entry checks watching; then the checks
// that need the whole image, the policy, and the report's order.
#include "verify/audit.hpp"

#include "diff/difference.hpp"
#include "image/image_source.hpp"
#include "normalize/pipeline.hpp"
#include "normalize/report.hpp"
#include "util/error.hpp"
#include "verify/audit_accounts.hpp"
#include "verify/audit_entries.hpp"
#include "verify/audit_layers.hpp"
#include "verify/audit_policy.hpp"

#include <map>

namespace reproimg::verify {

namespace {

using diff::Cause;

// normalize's report rules as diff's causes (docs/diff-causes.md).
std::optional<Cause> cause_of_rule(const std::string& rule)
{
  static const std::map<std::string, Cause> k_rules = {
      {"mtime", Cause::mtime},
      {"mtime-subsecond", Cause::mtime},
      {"pax-time", Cause::pax_time},
      {"owner-name", Cause::owner_name},
      {"owner-forced", Cause::owner_id},
      {"owner-mapped", Cause::owner_id},
      {"order", Cause::order},
      {"xattr", Cause::xattr},
      {"acl", Cause::xattr},
      {"fflags", Cause::xattr},
      {"exclude", Cause::volatile_path},
      {"truncate", Cause::volatile_path},
      {"socket-dropped", Cause::removed},
      {"hardlink", Cause::hardlink},
      {"hardlink-dangling", Cause::hardlink},
      {"path", Cause::tar_encoding},
      {"root-entry-dropped", Cause::tar_encoding},
      {"duplicate-replaced", Cause::tar_encoding},
      {"whiteout-emptied", Cause::tar_encoding},
      {"sparse-expanded", Cause::tar_encoding},
  };
  const auto it = k_rules.find(rule);
  return it == k_rules.end() ? std::nullopt : std::optional<Cause>(it->second);
}

struct LayerRead {
  std::string diff_id; // as stored ("" for a rootfs)
  std::string canonical_diff_id;
  std::map<Cause, std::uint64_t> causes;
};

LayerRead read_layer_once(const readers::LayerSource& source, std::int64_t epoch, util::ProgressMode progress,
                          LayerData& data, std::vector<Finding>& out)
{
  EntryChecks checks(data, out, epoch);
  normalize::NormalizeOptions options;
  options.policy.epoch = epoch;
  options.compression = normalize::Compression::none;
  options.compute_digests = true;
  options.progress = progress;
  options.observer = &checks;
  normalize::Report report;
  const normalize::LayerResult result = normalize::normalize_layer(source, options, nullptr, report);
  checks.finish();
  LayerRead r;
  r.diff_id = result.input_diff_id;
  r.canonical_diff_id = result.diff_id;
  for (const auto& [rule, stat] : report.rules()) {
    if (const auto cause = cause_of_rule(rule)) r.causes[*cause] += stat.count;
  }
  return r;
}

void check_canonical(const LayerRead& r, int layer, std::vector<Finding>& out)
{
  if (r.diff_id.empty() || r.diff_id == r.canonical_diff_id) return;
  std::map<Cause, std::uint64_t> causes = r.causes;
  if (causes.empty()) causes[Cause::tar_encoding] = 1; // the same entries, encoded otherwise
  std::string list;
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [cause, n] : causes) {
    list += (list.empty() ? "" : ", ") + std::string(diff::cause_name(cause)) + " " + std::to_string(n);
    counts[diff::cause_name(cause)] = n;
  }
  Finding f = make_finding("not-canonical", layer, {},
                           "diff_id " + r.diff_id.substr(0, 19) + "... is not the canonical " +
                               r.canonical_diff_id.substr(0, 19) + "...: normalize would change " + list);
  f.attributes["diff_id"] = r.diff_id;
  f.attributes["canonical_diff_id"] = r.canonical_diff_id;
  f.attributes["causes"] = counts;
  out.push_back(std::move(f));
}

// The account files as the top of the image has them.
AccountFiles account_files(const std::vector<LayerData>& layers)
{
  AccountFiles files;
  for (const char* name : {"etc/passwd", "etc/group", "etc/shadow"}) {
    const std::string path = name;
    for (size_t l = layers.size(); l-- > 0;) {
      const auto& layer = layers[l];
      bool present = false;
      bool removed = false;
      for (const auto& e : layer.entries) {
        if (e.path == path) present = e.type == readers::EntryType::regular;
        if (e.path == "etc/.wh." + path.substr(4) || e.path == "etc/.wh..wh..opq" || e.path == ".wh.etc" ||
            e.path == ".wh..wh..opq") {
          removed = true;
        }
      }
      if (!present && !removed) continue;
      if (present) {
        const auto it = layer.accounts.find(path);
        const std::string content = it == layer.accounts.end() ? std::string() : it->second;
        if (path == "etc/passwd") files.passwd = content, files.passwd_layer = layer.number;
        if (path == "etc/group") files.group = content;
        if (path == "etc/shadow") files.shadow = content, files.shadow_layer = layer.number;
      }
      break;
    }
  }
  return files;
}

} // namespace

namespace {

constexpr const char* k_no_epoch = "none given: 0";

struct Input {
  std::vector<readers::LayerSource> layers;
  nlohmann::json config; // null: a layer or rootfs
  std::string digest;
  std::vector<std::string> diff_ids; // the config's
};

Input open_input(const std::string& spec, const std::optional<image::Platform>& platform)
{
  Input in;
  readers::refuse_unread_transport(spec);
  if (const auto ref = image::parse_image_ref(spec)) {
    const auto store = image::ImageStore::open(*ref);
    const image::Image img = image::load_image(*store, *ref, platform);
    for (size_t i = 0; i < img.layers.size(); ++i) in.layers.push_back(image::checked_layer_source(*store, img, i));
    in.config = img.config;
    in.digest = img.manifest_digest.empty() ? img.config_digest : img.manifest_digest;
    in.diff_ids = img.diff_ids;
    return in;
  }
  in.layers.push_back(readers::parse_layer_source(spec));
  return in;
}

// E: the option, else the config's created, else 0; and where it came from.
std::pair<std::int64_t, std::string> epoch_of(const AuditOptions& options, const nlohmann::json& config)
{
  if (options.epoch) return {*options.epoch, "SOURCE_DATE_EPOCH"};
  if (config.is_object() && config.contains("created") && config["created"].is_string()) {
    if (const auto t = parse_rfc3339(config["created"].get<std::string>())) return {*t, "config created"};
  }
  return {0, k_no_epoch};
}

void whole_image_checks(const Input& in, const std::vector<LayerData>& layers, const AuditOptions& options,
                        std::optional<std::int64_t> epoch, report::AuditResult& result)
{
  const AccountFiles files = account_files(layers);
  check_accounts(files, epoch, result.findings);
  check_owners(files, layers, result.findings, result.notes);
  if (in.config.is_null()) {
    result.notes.emplace_back("root-user, secret-env: not checked, a layer or rootfs has no config");
  } else {
    check_config(in.config, result.findings);
  }
  check_times(in.config, layers, options.build_window, result.findings);
  check_hidden(layers, result.findings);
  const Waste waste = measure_waste(layers);
  check_waste(waste, result.findings);
  result.facts["efficiency"] = {{"size_bytes", waste.size_bytes},
                                {"user_size_bytes", waste.user_size_bytes},
                                {"wasted_bytes", waste.wasted_bytes},
                                {"wasted_user_percent", waste.wasted_user_percent},
                                {"efficiency", waste.efficiency}};
}

} // namespace

report::AuditResult run_audit(const std::string& spec, const AuditOptions& options,
                              const std::optional<image::Platform>& platform)
{
  report::AuditResult result;
  result.subject = spec;
  const Input in = open_input(spec, platform);
  const auto [epoch, epoch_source] = epoch_of(options, in.config);
  result.facts["epoch"] = epoch;
  result.facts["epoch_source"] = epoch_source;
  std::vector<LayerData> layers(in.layers.size());
  nlohmann::json layer_facts = nlohmann::json::array();
  for (size_t i = 0; i < in.layers.size(); ++i) {
    layers[i].number = static_cast<int>(i);
    const LayerRead r = read_layer_once(in.layers[i], epoch, options.progress, layers[i], result.findings);
    check_canonical(r, static_cast<int>(i), result.findings);
    if (in.config.is_null() && !r.diff_id.empty()) result.digest = r.diff_id;
    if (in.config.is_null() && r.diff_id.empty()) result.digest = r.canonical_diff_id;
    layer_facts.push_back({{"layer", i},
                           {"diff_id", r.diff_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.diff_id)},
                           {"canonical_diff_id", r.canonical_diff_id},
                           {"entries", layers[i].entries.size()},
                           {"file_bytes", layers[i].tar_bytes}});
  }
  if (!in.digest.empty()) result.digest = in.digest;
  result.facts["layers"] = layer_facts;
  // Shadow change days are compared with E only when E is known (not the default 0).
  whole_image_checks(in, layers, options,
                     epoch_source == k_no_epoch ? std::nullopt : std::optional<std::int64_t>(epoch), result);
  apply_policy(options.policy, result.findings);
  report::sort_findings(result.findings);
  result.checks = checks_in_force(options.policy);
  result.fail_on = options.fail_on;
  for (const auto& f : result.findings) {
    if (!f.allowed && f.severity >= result.fail_on) result.failed = true;
  }
  return result;
}

} // namespace reproimg::verify
