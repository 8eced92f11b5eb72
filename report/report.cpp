// The format names --format takes, and the one entry that renders a result in any of them.
#include "report/report.hpp"

namespace reproimg::report {

namespace {

struct FormatName {
  ReportFormat format;
  const char* name;
};

const FormatName k_formats[] = {
    {ReportFormat::text, "text"},     {ReportFormat::json, "json"},   {ReportFormat::markdown, "markdown"},
    {ReportFormat::html, "html"},     {ReportFormat::junit, "junit"}, {ReportFormat::sarif, "sarif"},
    {ReportFormat::github, "github"},
};

} // namespace

const std::vector<std::string>& report_format_names()
{
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& f : k_formats) out.emplace_back(f.name);
    return out;
  }();
  return names;
}

std::string report_format_list()
{
  const auto& names = report_format_names();
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  }
  return out;
}

std::optional<ReportFormat> parse_report_format(const std::string& name)
{
  for (const auto& f : k_formats) {
    if (name == f.name) return f.format;
  }
  if (name == "md") return ReportFormat::markdown;
  return std::nullopt;
}

std::string render(ReportFormat format, const DiffResult& r, const Check& check, const TextStyle& style)
{
  switch (format) {
  case ReportFormat::text: return report_text(r, style, check);
  case ReportFormat::json: return report_json(r, check);
  case ReportFormat::markdown: return report_markdown(r, check);
  case ReportFormat::html: return report_html(r, check);
  case ReportFormat::junit: return report_junit(r, check);
  case ReportFormat::sarif: return report_sarif(r, check);
  case ReportFormat::github: return report_github(r, check);
  }
  return "";
}

} // namespace reproimg::report
