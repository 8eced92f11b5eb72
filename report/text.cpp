// The text report: the verdict, a line per cause with its hint, then examples per cause.
#include "report/formats.hpp"
#include "report/shared.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <sstream>

namespace reproimg::report {

using namespace detail;

std::string report_text(const DiffResult& r, const TextStyle& style, const Check& check)
{
  auto paint = [&](const char* code, const std::string& s) {
    return style.color ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
  };
  const char* vcolor = r.verdict == Verdict::identical ? "32" : r.verdict == Verdict::equivalent ? "33" : "31";
  std::ostringstream out;
  out << "verdict: " << paint(vcolor, verdict_sentence(r)) << "\n";
  if (!check.headline.empty()) {
    out << util::printable(check.headline) << "\n";
  }
  out << "A: " << util::printable(r.a) << "\nB: " << util::printable(r.b) << "\n";
  if (r.differences.empty()) {
    return out.str();
  }
  const auto groups = group(r);
  out << with_commas(r.differences.size()) << (r.differences.size() == 1 ? " difference" : " differences") << " in "
      << groups.size() << (groups.size() == 1 ? " cause" : " causes") << ":\n";
  for (const auto& [cause, ds] : groups) {
    const auto& s = r.summary.at(cause);
    char line[64];
    std::snprintf(line, sizeof line, "  %-19s %7s  ", cause_name(cause), with_commas(ds.size()).c_str());
    out << paint("1", line) << (s.normalizable ? "[normalizable] " : "") << s.hint << "\n";
  }
  for (const auto& [cause, ds] : groups) {
    out << "\n"
        << paint("1", cause_name(cause)) << " (" << with_commas(ds.size()) << "): " << cause_description(cause) << "\n";
    std::size_t shown = 0;
    for (const Difference* d : ds) {
      if (style.examples_per_cause && shown == style.examples_per_cause) {
        out << "  ... and " << with_commas(ds.size() - shown) << " more (--all or --format json lists every one)\n";
        break;
      }
      ++shown;
      out << "  " << where(*d) << "  " << attribute_line(*d) << "\n";
      for (const auto& l : d->detail) {
        std::string painted = util::printable(l);
        if (style.color && !l.empty() && (l[0] == '-' || l[0] == '+'))
          painted = paint(l[0] == '-' ? "31" : "32", painted);
        out << "      " << painted << "\n";
      }
    }
  }
  return out.str();
}

} // namespace reproimg::report
