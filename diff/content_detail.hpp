// Why two contents differ: timestamps embedded in gzip headers, zip entries, .pyc headers and ar
// members (versus real content), a unified diff for text, the first differing byte for binaries.
#pragma once

#include "diff/difference.hpp"

#include <cstdint>
#include <optional>
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

// A build time carried inside one content (what explain_content finds between two), for audit.
struct EmbeddedTime {
  std::string format; // "gzip", "zip", "pyc", "ar"
  std::string field;  // "gzip.mtime", "zip.entry_time", "pyc.source_mtime", "ar.member_mtime"
  std::int64_t time = 0; // seconds since the epoch (zip: the newest entry, its DOS time read as UTC)
  std::string member;    // the zip entry or ar member that carries it ("" : the file itself)
};
// name: the file's path (which formats to try: *.pyc is only recognised by its name). A gzip
// header mtime and ar member mtimes count when set (not 0) to another time than epoch (E, the
// time a reproducible build clamps to); zip entry times when neither E nor 1980-01-01 00:00 (the
// earliest a zip holds; read as UTC); a .pyc when it is timestamp-based (not PEP 552's hash-based
// form). content may be a prefix when complete is false (gzip and .pyc need only their headers;
// zip and ar are then not looked into).
std::optional<EmbeddedTime> embedded_time(const std::string& name, const std::string& content, bool complete,
                                          std::int64_t epoch);

// Is it text (no NUL byte, valid enough to print)?
bool looks_like_text(const std::string& s);

} // namespace reproimg::diff
