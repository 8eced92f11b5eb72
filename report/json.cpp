// The JSON report (docs/diff-report.schema.json).
#include "report/formats.hpp"
#include "report/shared.hpp"
#include "util/error.hpp"

namespace reproimg::report {

using namespace detail;

namespace {

constexpr const char* k_schema = "reproimg-diff/1";

} // namespace

std::string report_json(const DiffResult& r, const Check& check)
{
  Json doc;
  doc["schema"] = k_schema;
  doc["a"] = util::printable(r.a);
  doc["b"] = util::printable(r.b);
  doc["verdict"] = verdict_name(r.verdict);
  Json summary = Json::object();
  Json hints = Json::object();
  for (const auto& [cause, s] : r.summary) {
    summary[cause_name(cause)] = s.count;
    hints[cause_name(cause)] = s.hint;
  }
  doc["summary"] = summary;
  doc["hints"] = hints;
  doc["normalize_options"] = r.normalize_options;
  Json list = Json::array();
  for (const auto& d : r.differences) {
    Json j;
    j["cause"] = cause_name(d.cause);
    j["path"] = util::printable(d.path);
    j["layer"] = d.layer ? Json(*d.layer) : Json(nullptr);
    Json attrs = Json::object();
    for (const auto& [name, v] : d.attributes) attrs[name] = Json::array({v.first, v.second});
    j["attributes"] = attrs;
    j["normalizable"] = d.normalizable;
    j["hint"] = d.hint;
    if (!d.variations.empty()) j["variations"] = d.variations;
    if (!d.detail.empty()) {
      Json detail = Json::array();
      for (const auto& line : d.detail) detail.push_back(util::printable(line));
      j["detail"] = detail;
    }
    list.push_back(j);
  }
  doc["differences"] = list;
  doc["notes"] = r.notes;
  // A diff report without a headline stays what it was (schema reproimg-diff/1 allows both keys).
  if (check.command != Command::diff) {
    doc["command"] = command_name(check.command);
  }
  if (!check.headline.empty()) {
    doc["headline"] = util::printable(check.headline);
  }
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

} // namespace reproimg::report
