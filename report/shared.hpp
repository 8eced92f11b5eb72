// What the report formats share: escaping for each markup, the verdict sentence, the records
// grouped by cause, where a record is. Internal to report/ (the formats include it, nothing else).
#pragma once

#include "diff/difference.hpp"
#include "report/formats.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace reproimg::report::detail {

using diff::Cause;
using diff::Difference;
using diff::Json;
using diff::Verdict;

// "diff" or "verify": the word after "reproimg" in titles.
const char* command_name(Command command);
// A value of an attribute as shown: a string as it is, anything else as compact JSON.
std::string json_text(const Json& j);
// "mtime 1 -> 2; size 3": every attribute of a record, on one line.
std::string attribute_line(const Difference& d);
// "layer 0: etc/passwd", "(layer-wide)", "config:/created": printable.
std::string where(const Difference& d);
std::string with_commas(std::size_t n);
// One line: the verdict and what removes what (commands between backticks).
std::string verdict_sentence(const DiffResult& r);
// The records per cause, causes in report order, records in report order.
std::map<Cause, std::vector<const Difference*>> group(const DiffResult& r);
// Whether the record is about the image's manifest or config rather than a file.
bool image_level(const Difference& d);

std::string html_escape(const std::string& s);
std::string md_escape(const std::string& s);
// A markdown code span holding s as it is.
std::string md_code(const std::string& s);
// Prose for markdown or HTML: escaped; commands between backticks as code.
std::string md_text(const std::string& s);
std::string html_text(const std::string& s);
// Whether text keeps its line breaks (an element's text) or shows them as \x0a (an attribute).
enum class Newlines { keep, escape };
// Text for XML (element content or a quoted attribute): printable (line by line with
// Newlines::keep), & < > " ' escaped, and the characters XML 1.0 does not allow though UTF-8
// can hold them (U+FFFE, U+FFFF) written as \uFFFE, \uFFFF.
std::string xml_escape(const std::string& s, Newlines newlines = Newlines::escape);

// With this many differences or fewer, the first cause is shown open.
bool open_first_cause(const DiffResult& r);

} // namespace reproimg::report::detail
