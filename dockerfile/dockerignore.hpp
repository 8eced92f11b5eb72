// .dockerignore: which files of a build context a build may see, with Docker's pattern rules.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace reproimg::dockerfile {

// Docker's rules (moby/patternmatcher, as BuildKit applies them): one pattern a line; a line
// starting with '#' is a comment; patterns are cleaned and made relative ("/a/./b/" is "a/b");
// '*' and '?' do not cross '/', "**" matches any number of directories, '[...]' is a class,
// '\' escapes; "!pattern" re-includes; the last matching pattern decides; a pattern that matches
// a directory excludes everything below it.
class DockerIgnore {
public:
  DockerIgnore() = default;
  // Throws util::Error naming the line of a pattern that is not valid.
  static DockerIgnore parse(std::string_view text, const std::string& name = ".dockerignore");

  // path: relative to the context, '/'-separated, clean ("a/b.txt").
  bool excluded(const std::string& path) const;
  // Whether a "!" pattern could bring back something below an excluded directory.
  bool has_exceptions() const { return m_has_exceptions; }
  bool empty() const { return m_patterns.empty(); }

private:
  struct Pattern {
    std::string text;
    bool exception = false;
    std::regex regex;
  };
  std::vector<Pattern> m_patterns;
  bool m_has_exceptions = false;
};

// Go's path.Clean for a relative or absolute path ("" becomes ".").
std::string clean_path(const std::string& path);

} // namespace reproimg::dockerfile
