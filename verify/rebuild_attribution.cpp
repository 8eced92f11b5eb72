// Attributing a rebuild's differences to its variations (see rebuild_attribution.hpp).
#include "verify/rebuild_attribution.hpp"

#include "diff/diff.hpp"

#include <map>
#include <set>
#include <tuple>

namespace reproimg::verify {

namespace {

using Key = std::tuple<int, int, std::string>;

Key key_of(const diff::Difference& d)
{
  return {static_cast<int>(d.cause), d.layer.value_or(-1), d.path};
}

std::vector<std::string> names_of(const std::vector<Variation>& vs)
{
  std::vector<std::string> out;
  for (const Variation v : vs) out.emplace_back(variation_name(v));
  if (out.empty()) out.emplace_back(k_no_variation);
  return out;
}

std::string replaced(std::string s, const std::vector<std::pair<std::string, std::string>>& replacements)
{
  for (const auto& [from, to] : replacements) {
    if (from.empty()) continue;
    for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
      s.replace(pos, from.size(), to);
    }
  }
  return s;
}

void replace_in_json(diff::Json& j, const std::vector<std::pair<std::string, std::string>>& replacements)
{
  if (j.is_string()) {
    j = replaced(j.get<std::string>(), replacements);
  } else if (j.is_array() || j.is_object()) {
    for (auto& item : j) replace_in_json(item, replacements);
  }
}

} // namespace

diff::DiffResult attribute_differences(std::vector<RunComparison> comparisons, BisectMode bisect)
{
  if (comparisons.empty()) return {};
  diff::DiffResult out = std::move(comparisons.front().result);
  const std::vector<std::string> together = names_of(comparisons.front().varied);
  std::map<Key, std::vector<std::string>> found; // key -> the single runs that show it, in run order
  std::set<Key> inherent;
  std::set<Key> present;
  for (const auto& d : out.differences) present.insert(key_of(d));
  for (std::size_t i = 1; bisect == BisectMode::on && i < comparisons.size(); ++i) {
    auto& c = comparisons[i];
    for (auto& d : c.result.differences) {
      const Key k = key_of(d);
      if (c.varied.empty())
        inherent.insert(k);
      else
        found[k].emplace_back(variation_name(c.varied.front()));
      if (present.insert(k).second) out.differences.push_back(std::move(d));
    }
  }
  for (auto& d : out.differences) {
    const Key k = key_of(d);
    if (bisect == BisectMode::off)
      d.variations = together;
    else if (inherent.count(k))
      d.variations = {k_no_variation};
    else if (found.count(k))
      d.variations = found[k];
    else
      d.variations = together;
  }
  out.summary.clear();
  out.normalize_options.clear();
  diff::finish_result(out, {}, false);
  return out;
}

std::vector<std::pair<std::string, std::size_t>> attribution_counts(const diff::DiffResult& r)
{
  std::map<std::string, std::size_t> counts;
  for (const auto& d : r.differences) {
    for (const auto& v : d.variations) ++counts[v];
  }
  std::vector<std::pair<std::string, std::size_t>> out;
  for (const Variation v : all_variations()) {
    const auto it = counts.find(variation_name(v));
    if (it != counts.end()) out.emplace_back(it->first, it->second);
  }
  if (counts.count(k_no_variation)) out.emplace_back(k_no_variation, counts[k_no_variation]);
  return out;
}

void replace_paths(diff::DiffResult& r, const std::vector<std::pair<std::string, std::string>>& replacements)
{
  r.a = replaced(r.a, replacements);
  r.b = replaced(r.b, replacements);
  for (auto& n : r.notes) n = replaced(n, replacements);
  for (auto& d : r.differences) {
    d.path = replaced(d.path, replacements);
    for (auto& [name, values] : d.attributes) {
      replace_in_json(values.first, replacements);
      replace_in_json(values.second, replacements);
    }
    for (auto& line : d.detail) line = replaced(line, replacements);
    d.hint = replaced(d.hint, replacements);
  }
  for (auto& [cause, s] : r.summary) s.hint = replaced(s.hint, replacements);
}

} // namespace reproimg::verify
