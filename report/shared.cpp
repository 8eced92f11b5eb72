// What the report formats share: escaping, the verdict sentence, the records grouped by cause.
#include "report/shared.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace reproimg::report::detail {

namespace {

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

// Byte sequences XML 1.0 does not allow in a document, though they are valid UTF-8: U+FFFE, U+FFFF.
bool xml_noncharacter(const std::string& s, size_t i)
{
  return i + 2 < s.size() && s[i] == '\xef' && s[i + 1] == '\xbf' && (s[i + 2] == '\xbe' || s[i + 2] == '\xbf');
}

} // namespace

const char* command_name(Command command)
{
  switch (command) {
  case Command::verify: return "verify";
  case Command::audit: return "audit";
  case Command::rebuild: return "rebuild";
  case Command::diff: return "diff";
  }
  return "diff";
}

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
  if (!d.variations.empty()) {
    out += out.empty() ? "variations: " : "; variations: ";
    for (std::size_t i = 0; i < d.variations.size(); ++i) out += (i ? ", " : "") + d.variations[i];
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

bool image_level(const Difference& d)
{
  return d.path.rfind("manifest:", 0) == 0 || d.path.rfind("config:", 0) == 0 || d.cause == Cause::layer_split ||
         d.cause == Cause::format;
}

std::string xml_escape(const std::string& s, Newlines newlines)
{
  std::string p;
  if (newlines == Newlines::keep) {
    size_t start = 0;
    for (size_t nl = s.find('\n'); nl != std::string::npos; start = nl + 1, nl = s.find('\n', start)) {
      p += util::printable(std::string_view(s).substr(start, nl - start)) + "\n";
    }
    p += util::printable(std::string_view(s).substr(start));
  } else {
    p = util::printable(s);
  }
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (xml_noncharacter(p, i)) {
      out += p[i + 2] == '\xbe' ? "\\uFFFE" : "\\uFFFF";
      i += 2;
      continue;
    }
    switch (p[i]) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&apos;"; break;
    default: out += p[i];
    }
  }
  return out;
}

bool open_first_cause(const DiffResult& r)
{
  // The one file that differs is seen without a click.
  constexpr size_t k_open_first_cause_up_to = 20;
  return r.differences.size() <= k_open_first_cause_up_to;
}

} // namespace reproimg::report::detail
