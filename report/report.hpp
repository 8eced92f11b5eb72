// The four renderings of a diff result. Every one is deterministic: same result, same bytes.
#pragma once

#include "diff/difference.hpp"

#include <string>

namespace reproimg::report {

using diff::DiffResult;

enum class ReportFormat { text, json, markdown, html };
std::optional<ReportFormat> parse_report_format(const std::string& name);

struct TextStyle {
  bool color = false;              // ANSI colours (a terminal)
  std::size_t examples_per_cause = 10; // 0: all
};

// The versioned JSON document (docs/diff-report.schema.json).
std::string report_json(const DiffResult& r);
// Summary first (verdict, counts per cause with hints), then examples per cause.
std::string report_text(const DiffResult& r, const TextStyle& style);
// For a CI job summary: a table and a collapsible section per cause.
std::string report_markdown(const DiffResult& r);
// One self-contained HTML page, a collapsible section per cause.
std::string report_html(const DiffResult& r);

} // namespace reproimg::report
