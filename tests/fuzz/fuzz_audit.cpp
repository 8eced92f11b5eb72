// Fuzz target: `reproimg audit` of a layer tar or an image archive (whatever the bytes are read
// as). Invariants: an input is audited or refused with a util::Error, never a crash or a hang;
// two audits of one input render the same bytes in every format; findings come sorted.
#include "fuzz_support.hpp"
#include "report/findings.hpp"
#include "util/error.hpp"
#include "verify/audit.hpp"

#include <optional>

using namespace reproimg;
using reproimg::fuzz::check;

namespace {

std::optional<report::AuditResult> audit(const std::string& path)
{
  try {
    verify::AuditOptions options;
    options.epoch = 1700000000;
    return verify::run_audit(path, options, std::nullopt);
  } catch (const util::Error& e) {
    fuzz::refused(e);
    return std::nullopt;
  }
}

std::string all_formats(const report::AuditResult& r)
{
  const report::Check check{report::Command::audit, "", 0, ""};
  std::string out;
  for (const auto f : {report::ReportFormat::text, report::ReportFormat::json, report::ReportFormat::markdown,
                       report::ReportFormat::junit, report::ReportFormat::sarif, report::ReportFormat::github}) {
    out += report::render_audit(f, r, check, report::TextStyle{});
  }
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size)
{
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const fuzz::MemFile input(bytes);
  const auto first = audit(input.path());
  if (!first) return 0;
  std::vector<report::Finding> sorted = first->findings;
  report::sort_findings(sorted);
  check(sorted.size() == first->findings.size(), "findings lost in sorting");
  for (size_t i = 0; i < sorted.size(); ++i) {
    check(sorted[i].check == first->findings[i].check && sorted[i].paths == first->findings[i].paths,
          "findings not in report order");
  }
  const auto second = audit(input.path());
  check(second.has_value(), "the second audit of one input refused it");
  check(all_formats(*first) == all_formats(*second), "two audits of one input render different bytes");
  return 0;
}
