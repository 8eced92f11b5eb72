// The normalisation report: what each canonical rule changed, with counts and example paths.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace reproimg::normalize {

struct RuleStat {
  std::uint64_t count = 0;
  std::vector<std::string> examples; // the first few paths, in input order
};

class Report {
public:
  static constexpr size_t k_max_examples = 5;

  void note(const std::string& rule, const std::string& path);
  void warn(const std::string& message);

  const std::map<std::string, RuleStat>& rules() const { return m_rules; }
  const std::vector<std::string>& warnings() const { return m_warnings; }
  std::uint64_t count(const std::string& rule) const;

  // Totals set by the pipeline.
  std::uint64_t entries_in = 0;
  std::uint64_t entries_out = 0;
  std::uint64_t bytes_in = 0;  // uncompressed tar bytes read (or file bytes from a directory)
  std::uint64_t bytes_out = 0; // uncompressed canonical tar bytes

private:
  std::map<std::string, RuleStat> m_rules;
  std::vector<std::string> m_warnings;
};

} // namespace reproimg::normalize

namespace reproimg::normalize {

struct Policy;
struct LayerResult;

// The JSON form of a report (keys sorted, two-space indent, trailing newline): the options in
// force, totals, what each rule changed, and the warnings.
std::string report_to_json(const Report& report, const Policy& policy, const std::string& input,
                           const LayerResult& result, const std::string& compression);

} // namespace reproimg::normalize
