// The HTML report: one self-contained page, a collapsible section per cause.
#include "report/formats.hpp"
#include "report/shared.hpp"
#include "util/error.hpp"

#include <sstream>
#include <utility>

namespace reproimg::report {

using namespace detail;

std::string report_html(const DiffResult& r, const Check& check)
{
  std::ostringstream out;
  const char* vclass = r.verdict == Verdict::identical ? "ok" : r.verdict == Verdict::equivalent ? "warn" : "bad";
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>reproimg "
      << command_name(check.command) << ": " << verdict_name(r.verdict) << "</title>\n<style>\n"
      << "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}\n"
      << "code,pre,td.path{font-family:ui-monospace,monospace;font-size:90%}\n"
      << ".ok{color:#17702c}.warn{color:#9a6700}.bad{color:#b3261e}\n"
      << "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;"
         "text-align:left;vertical-align:top}\n"
      << "details{margin:.5em 0}summary{cursor:pointer;font-weight:bold}pre{background:#f6f6f6;padding:.5em;"
         "margin:.2em 0;overflow-x:auto}\n"
      << ".del{color:#b3261e}.add{color:#17702c}td:first-child{white-space:nowrap}\n</style></head><body>\n";
  out << "<h1>reproimg " << command_name(check.command) << ": <span class=\"" << vclass << "\">"
      << verdict_name(r.verdict) << "</span></h1>\n";
  if (!check.headline.empty()) {
    out << "<p><strong>" << html_escape(check.headline) << "</strong></p>\n";
  }
  out << "<p>" << html_text(verdict_sentence(r)) << "</p>\n";
  out << "<p>A: <code>" << html_escape(r.a) << "</code><br>B: <code>" << html_escape(r.b) << "</code></p>\n";
  const auto groups = group(r);
  if (!groups.empty()) {
    out << "<table><tr><th>cause</th><th>count</th><th>normalizable</th><th>what to do</th></tr>\n";
    for (const auto& [cause, ds] : groups) {
      const auto& s = r.summary.at(cause);
      out << "<tr><td><a href=\"#" << cause_name(cause) << "\"><code>" << cause_name(cause) << "</code></a></td><td>"
          << with_commas(ds.size()) << "</td><td>" << (s.normalizable ? "yes" : "no") << "</td><td>"
          << html_text(s.hint) << "</td></tr>\n";
    }
    out << "</table>\n";
  }
  bool first = true;
  for (const auto& [cause, ds] : groups) {
    const bool open = std::exchange(first, false) && open_first_cause(r);
    out << "<details id=\"" << cause_name(cause) << "\"" << (open ? " open" : "") << "><summary>" << cause_name(cause)
        << " (" << with_commas(ds.size()) << ") — " << html_escape(cause_description(cause)) << "</summary>\n<table>\n";
    for (const Difference* d : ds) {
      out << "<tr><td class=\"path\">" << html_escape(where(*d)) << "</td><td>" << html_escape(attribute_line(*d));
      if (!d->detail.empty()) {
        out << "<pre>";
        for (const auto& l : d->detail) {
          const char* cls = !l.empty() && l[0] == '-' ? "del" : !l.empty() && l[0] == '+' ? "add" : nullptr;
          if (cls) out << "<span class=\"" << cls << "\">";
          out << html_escape(l);
          if (cls) out << "</span>";
          out << "\n";
        }
        out << "</pre>";
      }
      out << "</td></tr>\n";
    }
    out << "</table></details>\n";
  }
  out << "</body></html>\n";
  return out.str();
}

} // namespace reproimg::report
