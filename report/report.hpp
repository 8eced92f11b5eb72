// The report formats of every command that answers with a DiffResult (diff, and verify): their
// names, parsing --format, and one render() the commands share.
#pragma once

#include "report/formats.hpp"

#include <optional>
#include <string>
#include <vector>

namespace reproimg::report {

enum class ReportFormat { text, json, markdown, html, junit, sarif, github };

// The names --format takes, in help order ("md" is also read as markdown).
const std::vector<std::string>& report_format_names();
// "text, json, markdown, html, junit, sarif or github": for help texts and refusals.
std::string report_format_list();
std::optional<ReportFormat> parse_report_format(const std::string& name);

std::string render(ReportFormat format, const DiffResult& r, const Check& check, const TextStyle& style);

} // namespace reproimg::report
