// The markdown report, for a CI job summary: a table of causes and a collapsible section per cause.
#include "report/formats.hpp"
#include "report/shared.hpp"
#include "util/error.hpp"

#include <sstream>
#include <utility>

namespace reproimg::report {

using namespace detail;

std::string report_markdown(const DiffResult& r, const Check& check)
{
  std::ostringstream out;
  const char* icon = r.verdict == Verdict::identical ? "✅" : r.verdict == Verdict::equivalent ? "🟡" : "❌";
  out << "## " << icon << " reproimg " << command_name(check.command) << ": " << verdict_name(r.verdict) << "\n\n";
  if (!check.headline.empty()) {
    out << "**" << md_escape(check.headline) << "**\n\n";
  }
  out << md_text(verdict_sentence(r)) << "\n\n";
  out << "- A: " << md_code(r.a) << "\n- B: " << md_code(r.b) << "\n\n";
  if (r.differences.empty()) {
    return out.str();
  }
  out << "| cause | count | normalizable | what to do |\n|---|---:|:---:|---|\n";
  const auto groups = group(r);
  for (const auto& [cause, ds] : groups) {
    const auto& s = r.summary.at(cause);
    out << "| `" << cause_name(cause) << "` | " << with_commas(ds.size()) << " | " << (s.normalizable ? "yes" : "no")
        << " | " << md_text(s.hint) << " |\n";
  }
  bool first = true;
  for (const auto& [cause, ds] : groups) {
    const bool open = std::exchange(first, false) && open_first_cause(r);
    out << "\n<details" << (open ? " open" : "") << "><summary><code>" << cause_name(cause) << "</code> ("
        << with_commas(ds.size()) << ")</summary>\n\n";
    std::size_t shown = 0;
    for (const Difference* d : ds) {
      if (shown++ == 100) {
        out << "- ... and " << with_commas(ds.size() - 100) << " more\n";
        break;
      }
      out << "- " << md_code(where(*d)) << ": " << md_escape(attribute_line(*d)) << "\n";
      if (!d->detail.empty()) {
        out << "\n  ```\n";
        for (const auto& l : d->detail) out << "  " << util::printable(l) << "\n";
        out << "  ```\n";
      }
    }
    out << "\n</details>\n";
  }
  return out.str();
}

} // namespace reproimg::report
