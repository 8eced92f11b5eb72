// Why two contents differ: timestamps embedded in gzip headers, zip entries, .pyc headers and ar
// members (versus real content), a unified diff for text, the first differing byte for binaries.
#pragma once

#include "diff/difference.hpp"

#include <cstdint>
#include <string>

namespace reproimg::diff {

struct ContentExplanation {
  bool only_embedded_timestamps = false; // the bytes differ only in embedded timestamps
  std::string format;                    // "gzip", "zip", "pyc", "ar", "text", "binary"
  std::vector<std::pair<std::string, std::pair<Json, Json>>> attributes;
  std::vector<std::string> detail;       // hunk lines, hex lines
};

// a and b are the contents (possibly cut to a prefix when truncated is set). A gzip payload larger
// than max_inflate is not looked into (a decompression bomb costs nothing).
ContentExplanation explain_content(const std::string& a, const std::string& b, bool truncated,
                                   std::size_t max_diff_lines, std::uint64_t max_inflate = 64u << 20);

// A unified diff of two texts (3 lines of context), at most max_lines lines.
std::vector<std::string> unified_diff(const std::string& a, const std::string& b, std::size_t max_lines);

// Is it text (no NUL byte, valid enough to print)?
bool looks_like_text(const std::string& s);

} // namespace reproimg::diff
