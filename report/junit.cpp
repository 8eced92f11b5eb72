// The JUnit XML report (Apache Ant's schema, what CI dashboards read): a suite of test cases per
// layer and a suite per cause, each passing when it has no difference, a failure carrying the
// count, the hint and the paths. No clock, no host name: see docs/ci-reports.md.
#include "report/formats.hpp"
#include "report/shared.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <sstream>

namespace reproimg::report {

using namespace detail;

namespace {

// Records listed in a failure; the rest are counted ("... and N more").
constexpr std::size_t k_paths_per_failure = 50;

const char* k_image_part = "manifest and config";
const char* k_flat_part = "flattened filesystem";

// The timestamp the schema requires (no time zone), from seconds since the epoch, in UTC;
// clamped to the years 1970..9999 the pattern can write.
std::string iso_timestamp(std::int64_t seconds)
{
  const std::int64_t last = 253402300799; // 9999-12-31T23:59:59
  const std::time_t t = static_cast<std::time_t>(std::clamp<std::int64_t>(seconds, 0, last));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96]; // ample for any int fields, to quiet -Wformat-truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string part_of(const Difference& d)
{
  if (image_level(d)) return k_image_part;
  if (d.layer) return "layer " + std::to_string(*d.layer);
  return k_flat_part;
}

// The layer test cases, in order: what was compared, then any part a record names beyond it.
std::vector<std::string> parts(const DiffResult& r)
{
  std::vector<std::string> out;
  const bool images = r.scope == diff::Scope::images || r.scope == diff::Scope::images_flattened;
  if (images) out.emplace_back(k_image_part);
  for (std::size_t i = 0; i < r.layer_pairs; ++i) out.push_back("layer " + std::to_string(i));
  if (r.scope == diff::Scope::images_flattened || r.scope == diff::Scope::image_and_tree) out.emplace_back(k_flat_part);
  for (const auto& d : r.differences) {
    const std::string p = part_of(d);
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

struct TestCase {
  std::string name;
  std::vector<const Difference*> records; // none: the case passes
  std::string message;                    // the failure's message
  std::string hint;                       // a cause's hint, first line of the failure's text
};

std::string failure_type(const std::vector<const Difference*>& ds)
{
  const bool all = std::all_of(ds.begin(), ds.end(), [](const Difference* d) { return d->normalizable; });
  return all ? "normalizable" : "different";
}

std::string failure_text(const TestCase& tc)
{
  std::string out = tc.hint.empty() ? "" : util::printable(tc.hint) + "\n";
  std::size_t shown = 0;
  for (const Difference* d : tc.records) {
    if (shown++ == k_paths_per_failure) {
      out += "... and " + with_commas(tc.records.size() - k_paths_per_failure) + " more\n";
      break;
    }
    out += std::string(cause_name(d->cause)) + "  " + where(*d) + "  " + util::printable(attribute_line(*d)) + "\n";
  }
  return out;
}

std::string testcase_xml(const TestCase& tc, const std::string& classname)
{
  std::string out = "    <testcase name=\"" + xml_escape(tc.name) + "\" classname=\"" + classname + "\" time=\"0\"";
  if (tc.records.empty()) return out + "/>\n";
  out += ">\n      <failure message=\"" + xml_escape(tc.message) + "\" type=\"" + failure_type(tc.records) + "\">";
  return out + xml_escape(failure_text(tc), Newlines::keep) + "</failure>\n    </testcase>\n";
}

std::string count_of(std::size_t n)
{
  return with_commas(n) + (n == 1 ? " difference" : " differences");
}

std::vector<TestCase> layer_cases(const DiffResult& r)
{
  std::vector<TestCase> out;
  for (const auto& p : parts(r)) {
    TestCase tc{p, {}, "", ""};
    std::map<Cause, std::size_t> counts;
    for (const auto& d : r.differences) {
      if (part_of(d) != p) continue;
      tc.records.push_back(&d);
      ++counts[d.cause];
    }
    tc.message = count_of(tc.records.size());
    std::string sep = ": ";
    for (const auto& [cause, n] : counts) {
      tc.message += sep + cause_name(cause) + " " + with_commas(n);
      sep = ", ";
    }
    out.push_back(std::move(tc));
  }
  return out;
}

std::vector<TestCase> cause_cases(const DiffResult& r)
{
  const auto groups = group(r);
  std::vector<TestCase> out;
  for (const Cause cause : diff::all_causes()) {
    TestCase tc{cause_name(cause), {}, "", ""};
    if (const auto it = groups.find(cause); it != groups.end()) {
      tc.records = it->second;
      tc.hint = r.summary.at(cause).hint;
      tc.message = count_of(tc.records.size()) + ": " + tc.hint;
    }
    out.push_back(std::move(tc));
  }
  return out;
}

struct Suite {
  std::string name;
  std::vector<TestCase> cases;
};

std::string properties_xml(const DiffResult& r, const Check& check)
{
  std::vector<std::pair<std::string, std::string>> props = {
      {"a", r.a}, {"b", r.b}, {"verdict", verdict_name(r.verdict)}};
  if (!check.headline.empty()) props.emplace_back("headline", check.headline);
  if (!r.normalize_options.empty()) {
    std::string opts;
    for (const auto& o : r.normalize_options) opts += (opts.empty() ? "" : " ") + o;
    props.emplace_back("normalize_options", opts);
  }
  std::string out = "    <properties>\n";
  for (const auto& [name, value] : props) {
    out += "      <property name=\"" + name + "\" value=\"" + xml_escape(value) + "\"/>\n";
  }
  return out + "    </properties>\n";
}

std::string system_out(const DiffResult& r, const Check& check)
{
  std::string out = "verdict: " + util::printable(verdict_sentence(r)) + "\n";
  if (!check.headline.empty()) out += util::printable(check.headline) + "\n";
  for (const auto& n : r.notes) out += util::printable(n) + "\n";
  return out;
}

std::string suite_xml(const Suite& s, int id, const DiffResult& r, const Check& check)
{
  const std::string package = std::string("reproimg.") + command_name(check.command);
  const auto failures =
      std::count_if(s.cases.begin(), s.cases.end(), [](const TestCase& tc) { return !tc.records.empty(); });
  std::ostringstream out;
  out << "  <testsuite name=\"" << s.name << "\" package=\"" << package << "\" id=\"" << id << "\" timestamp=\""
      << iso_timestamp(check.timestamp) << "\" hostname=\"localhost\" tests=\"" << s.cases.size() << "\" failures=\""
      << failures << "\" errors=\"0\" skipped=\"0\" time=\"0\">\n";
  out << properties_xml(r, check);
  for (const auto& tc : s.cases) out << testcase_xml(tc, package + "." + s.name);
  out << "    <system-out>" << xml_escape(system_out(r, check), Newlines::keep)
      << "</system-out>\n    <system-err></system-err>\n";
  out << "  </testsuite>\n";
  return out.str();
}

} // namespace

std::string report_junit(const DiffResult& r, const Check& check)
{
  const Suite suites[] = {{"layers", layer_cases(r)}, {"causes", cause_cases(r)}};
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  int id = 0;
  for (const auto& s : suites) out += suite_xml(s, id++, r, check);
  return out + "</testsuites>\n";
}

} // namespace reproimg::report
