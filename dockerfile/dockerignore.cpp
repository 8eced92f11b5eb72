// .dockerignore patterns compiled to regular expressions, as moby/patternmatcher does.
#include "dockerfile/dockerignore.hpp"

#include "util/error.hpp"
#include "util/text.hpp"


namespace reproimg::dockerfile {

namespace {

void append_literal(std::string& re, char c)
{
  static const std::string k_special = R"(\^$.|?*+()[]{}/)";
  if (k_special.find(c) != std::string::npos) {
    re += '\\';
  }
  re += c;
}

// The regular expression for a cleaned pattern (patternmatcher's compile()).
std::string to_regex(const std::string& pattern)
{
  std::string re = "^";
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (in_class) {
      if (c == ']') {
        in_class = false;
        re += c;
      } else if (c == '\\' && i + 1 < pattern.size()) {
        re += '\\';
        re += pattern[++i];
      } else {
        re += c;
      }
      continue;
    }
    if (c == '*') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '*') {
        ++i;
        if (i + 1 < pattern.size() && pattern[i + 1] == '/') {
          ++i; // "**/" is "**"
        }
        // A trailing "**" matches everything; elsewhere any number of directories.
        re += i + 1 == pattern.size() ? ".*" : "(.*/)?";
      } else {
        re += "[^/]*";
      }
    } else if (c == '?') {
      re += "[^/]";
    } else if (c == '\\') {
      if (i + 1 < pattern.size()) {
        append_literal(re, pattern[++i]);
      } else {
        re += "\\\\";
      }
    } else if (c == '[') {
      in_class = true;
      re += c;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') {
        re += pattern[++i];
      }
    } else {
      append_literal(re, c);
    }
  }
  return re + "$";
}

} // namespace

std::string clean_path(const std::string& path)
{
  if (path.empty()) {
    return ".";
  }
  const bool rooted = path.front() == '/';
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) {
      j = path.size();
    }
    const std::string part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out = rooted ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k > 0) {
      out += '/';
    }
    out += parts[k];
  }
  return out.empty() ? "." : out;
}

DockerIgnore DockerIgnore::parse(std::string_view text, const std::string& name)
{
  DockerIgnore out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  int line_no = 0;
  for (size_t i = 0; i <= text.size();) {
    size_t j = text.find('\n', i);
    if (j == std::string_view::npos) {
      j = text.size();
    }
    const std::string_view raw = text.substr(i, j - i);
    i = j + 1;
    ++line_no;
    if (!raw.empty() && raw.front() == '#') {
      continue;
    }
    std::string pattern = util::trim(raw);
    if (pattern.empty()) {
      continue;
    }
    const bool exception = pattern.front() == '!';
    if (exception) {
      pattern = util::trim(std::string_view(pattern).substr(1));
    }
    if (!pattern.empty()) {
      pattern = clean_path(pattern);
      if (pattern.size() > 1 && pattern.front() == '/') {
        pattern.erase(0, 1);
      }
    }
    Pattern p;
    p.text = pattern;
    p.exception = exception;
    try {
      p.regex = std::regex(to_regex(pattern), std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error&) {
      throw util::Error(util::Location::of_line(name, line_no), "invalid pattern '" + util::printable(pattern) + "'");
    }
    out.m_has_exceptions = out.m_has_exceptions || exception;
    out.m_patterns.push_back(std::move(p));
  }
  return out;
}

bool DockerIgnore::excluded(const std::string& path) const
{
  // MatchesOrParentMatches: each pattern in turn may flip the verdict, tested against the path
  // and against each of its parent directories.
  bool matched = false;
  for (const auto& p : m_patterns) {
    if (p.exception != matched) {
      continue; // an exclusion cannot add to an excluded path, an exception cannot free an included one
    }
    bool match = std::regex_match(path, p.regex);
    for (size_t slash = path.find('/'); !match && slash != std::string::npos; slash = path.find('/', slash + 1)) {
      match = std::regex_match(path.substr(0, slash), p.regex);
    }
    if (match) {
      matched = !p.exception;
    }
  }
  return matched;
}

} // namespace reproimg::dockerfile
