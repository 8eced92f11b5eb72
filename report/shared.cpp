// Text, JSON, Markdown and HTML reports.
#include "report/report.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <utility>

namespace reproimg::report {

using diff::Cause;
using diff::Difference;
using diff::Json;
using diff::Verdict;
using diff::cause_description;
using diff::cause_name;
using diff::verdict_name;

namespace {

constexpr const char* k_schema = "reproimg-diff/1";

std::string json_text(const Json& j)
{
  if (j.is_string()) {
    return j.get<std::string>();
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string attribute_line(const Difference& d)
{
  std::string out;
  for (const auto& [name, v] : d.attributes) {
    if (!out.empty()) out += "; ";
    if (v.first == v.second) {
      out += name + " " + json_text(v.first);
    } else {
      out += name + " " + json_text(v.first) + " -> " + json_text(v.second);
    }
  }
  return out;
}

std::string where(const Difference& d)
{
  std::string w = d.path.empty() ? std::string("(layer-wide)") : util::printable(d.path);
  if (d.layer) w = "layer " + std::to_string(*d.layer) + ": " + w;
  return w;
}

std::string with_commas(std::size_t n)
{
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return digits;
}

std::string verdict_sentence(const DiffResult& r)
{
  switch (r.verdict) {
  case Verdict::identical: return "identical";
  case Verdict::equivalent: {
    std::string opts;
    for (const auto& o : r.normalize_options) opts += " " + o;
    return "equivalent: every difference is one `reproimg normalize" + opts + "` removes";
  }
  case Verdict::different: {
    std::size_t real = 0;
    for (const auto& d : r.differences) real += d.normalizable ? 0 : 1;
    std::string s = "different: " + with_commas(real) + (real == 1 ? " difference" : " differences") +
                    " that normalize does not remove (real content or settings)";
    const std::size_t rest = r.differences.size() - real;
    if (rest > 0) {
      std::string opts;
      for (const auto& o : r.normalize_options) opts += " " + o;
      s += "; `reproimg normalize" + opts + "` removes the other " + with_commas(rest);
    }
    return s;
  }
  }
  return "";
}

std::map<Cause, std::vector<const Difference*>> group(const DiffResult& r)
{
  std::map<Cause, std::vector<const Difference*>> g;
  for (const auto& d : r.differences) g[d.cause].push_back(&d);
  return g;
}

std::string html_escape(const std::string& s)
{
  std::string out;
  for (const char c : util::printable(s)) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string md_escape(const std::string& s)
{
  std::string out;
  for (const char c : util::printable(s)) {
    if (c == '|' || c == '`' || c == '*' || c == '_' || c == '<' || c == '>' || c == '[' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

// The prose of a hint or verdict and the commands in it, `between backticks`: each part rendered
// by its own function (an unpaired backtick is prose).
template <typename Prose, typename Code>
std::string with_code_spans(const std::string& text, Prose prose, Code code)
{
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t open = text.find('`', pos);
    const size_t close = open == std::string::npos ? std::string::npos : text.find('`', open + 1);
    if (close == std::string::npos) {
      return out + prose(text.substr(pos));
    }
    out += prose(text.substr(pos, open - pos)) + code(text.substr(open + 1, close - open - 1));
    pos = close + 1;
  }
}

// A markdown code span holding s as it is: fenced by more backticks than s has in a row, and a
// '|' escaped (GitHub reads it as a table cell's end even inside a code span).
std::string md_code(const std::string& s)
{
  std::string code;
  size_t run = 0;
  size_t longest = 0;
  for (const char c : util::printable(s)) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
    code += c == '|' ? std::string("\\|") : std::string(1, c);
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !code.empty() && (code.front() == '`' || code.back() == '`');
  return fence + (pad ? " " : "") + code + (pad ? " " : "") + fence;
}

// Prose for markdown: escaped; commands as code.
std::string md_text(const std::string& s)
{
  return with_code_spans(s, md_escape, md_code);
}

// Prose for HTML: escaped; commands as <code>.
std::string html_text(const std::string& s)
{
  return with_code_spans(s, html_escape, [](const std::string& c) { return "<code>" + html_escape(c) + "</code>"; });
}

// With this many differences or fewer, the first cause is shown open: the one file that differs
// is seen without a click.
constexpr size_t k_open_first_cause_up_to = 20;

bool open_first_cause(const DiffResult& r)
{
  return r.differences.size() <= k_open_first_cause_up_to;
}

} // namespace

std::optional<ReportFormat> parse_report_format(const std::string& name)
{
  if (name == "text") return ReportFormat::text;
  if (name == "json") return ReportFormat::json;
  if (name == "markdown" || name == "md") return ReportFormat::markdown;
  if (name == "html") return ReportFormat::html;
  return std::nullopt;
}

std::string report_json(const DiffResult& r)
{
  Json doc;
  doc["schema"] = k_schema;
  doc["a"] = util::printable(r.a);
  doc["b"] = util::printable(r.b);
  doc["verdict"] = verdict_name(r.verdict);
  Json summary = Json::object();
  Json hints = Json::object();
  for (const auto& [cause, s] : r.summary) {
    summary[cause_name(cause)] = s.count;
    hints[cause_name(cause)] = s.hint;
  }
  doc["summary"] = summary;
  doc["hints"] = hints;
  doc["normalize_options"] = r.normalize_options;
  Json list = Json::array();
  for (const auto& d : r.differences) {
    Json j;
    j["cause"] = cause_name(d.cause);
    j["path"] = util::printable(d.path);
    j["layer"] = d.layer ? Json(*d.layer) : Json(nullptr);
    Json attrs = Json::object();
    for (const auto& [name, v] : d.attributes) attrs[name] = Json::array({v.first, v.second});
    j["attributes"] = attrs;
    j["normalizable"] = d.normalizable;
    j["hint"] = d.hint;
    if (!d.detail.empty()) {
      Json detail = Json::array();
      for (const auto& line : d.detail) detail.push_back(util::printable(line));
      j["detail"] = detail;
    }
    list.push_back(j);
  }
  doc["differences"] = list;
  doc["notes"] = r.notes;
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string report_text(const DiffResult& r, const TextStyle& style)
{
  auto paint = [&](const char* code, const std::string& s) {
    return style.color ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
  };
  const char* vcolor = r.verdict == Verdict::identical ? "32" : r.verdict == Verdict::equivalent ? "33" : "31";
  std::ostringstream out;
  out << "verdict: " << paint(vcolor, verdict_sentence(r)) << "\n";
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
    out << "\n" << paint("1", cause_name(cause)) << " (" << with_commas(ds.size()) << "): " << cause_description(cause)
        << "\n";
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
        if (style.color && !l.empty() && (l[0] == '-' || l[0] == '+')) painted = paint(l[0] == '-' ? "31" : "32", painted);
        out << "      " << painted << "\n";
      }
    }
  }
  return out.str();
}

std::string report_markdown(const DiffResult& r)
{
  std::ostringstream out;
  const char* icon = r.verdict == Verdict::identical ? "✅" : r.verdict == Verdict::equivalent ? "🟡" : "❌";
  out << "## " << icon << " reproimg diff: " << verdict_name(r.verdict) << "\n\n";
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

std::string report_html(const DiffResult& r)
{
  std::ostringstream out;
  const char* vclass = r.verdict == Verdict::identical ? "ok" : r.verdict == Verdict::equivalent ? "warn" : "bad";
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>reproimg diff: "
      << verdict_name(r.verdict) << "</title>\n<style>\n"
      << "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}\n"
      << "code,pre,td.path{font-family:ui-monospace,monospace;font-size:90%}\n"
      << ".ok{color:#17702c}.warn{color:#9a6700}.bad{color:#b3261e}\n"
      << "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .5em;"
         "text-align:left;vertical-align:top}\n"
      << "details{margin:.5em 0}summary{cursor:pointer;font-weight:bold}pre{background:#f6f6f6;padding:.5em;"
         "margin:.2em 0;overflow-x:auto}\n"
      << ".del{color:#b3261e}.add{color:#17702c}td:first-child{white-space:nowrap}\n</style></head><body>\n";
  out << "<h1>reproimg diff: <span class=\"" << vclass << "\">" << verdict_name(r.verdict) << "</span></h1>\n";
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
    out << "<details id=\"" << cause_name(cause) << "\"" << (open ? " open" : "") << "><summary>" << cause_name(cause) << " ("
        << with_commas(ds.size()) << ") — " << html_escape(cause_description(cause)) << "</summary>\n<table>\n";
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
