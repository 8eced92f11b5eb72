// Fuzz target: `reproimg diff` of two small layers, and the content explainers (gzip, zip, .pyc, ar,
// text) on raw bytes.
// The input is "A<split>B" with the split marker below; without one, B is A with one byte flipped
// in its middle (so a plain tar seed gives two nearly equal layers).
// Invariants: diff(A, A) is identical; diff(A, B) and diff(B, A) agree on the verdict and the number of
// differences (added and removed swap); every report renders and the JSON one parses.
#include "diff/content_detail.hpp"
#include "diff/diff.hpp"
#include "fuzz_support.hpp"
#include "report/report.hpp"
#include "util/error.hpp"

#include <map>

using namespace reproimg;
using reproimg::fuzz::check;

namespace {

constexpr std::string_view k_split = "\n--reproimg-fuzz-split--\n";

std::optional<diff::DiffResult> run(const std::string& a, const std::string& b)
{
  try {
    diff::DiffOptions options;
    options.compare.max_content_bytes = 1 << 20;
    options.compare.max_inflate = 1 << 20;
    return diff::run_diff(a, b, options);
  } catch (const util::Error& e) {
    fuzz::refused(e);
    return std::nullopt;
  }
}

std::map<std::string, std::size_t> counts(const diff::DiffResult& r)
{
  std::map<std::string, std::size_t> c;
  for (const auto& d : r.differences) {
    std::string cause = diff::cause_name(d.cause);
    if (cause == "added") cause = "removed"; // seen from the other side
    else if (cause == "removed") cause = "added";
    ++c[cause];
  }
  return c;
}

std::map<std::string, std::size_t> plain_counts(const diff::DiffResult& r)
{
  std::map<std::string, std::size_t> c;
  for (const auto& d : r.differences) ++c[diff::cause_name(d.cause)];
  return c;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
  fuzz::ignore_sigpipe();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string a;
  std::string b;
  const auto at = input.find(k_split);
  if (at != std::string_view::npos) {
    a = std::string(input.substr(0, at));
    b = std::string(input.substr(at + k_split.size()));
  } else {
    a = std::string(input);
    b = a;
    if (!b.empty()) b[b.size() / 2] = static_cast<char>(b[b.size() / 2] ^ 1);
  }

  // The explainers take any bytes.
  const auto e = diff::explain_content(a, b, false, 20, 1 << 20);
  check(e.detail.size() <= 22, "unified diff longer than --max-diff-lines");

  const fuzz::MemFile fa(a);
  const fuzz::MemFile fb(b);
  if (const auto same = run(fa.path(), fa.path())) {
    check(same->verdict == diff::Verdict::identical && same->differences.empty(), "diff(A, A) is not identical");
  }
  const auto ab = run(fa.path(), fb.path());
  const auto ba = run(fb.path(), fa.path());
  check(ab.has_value() == ba.has_value(), "diff(A, B) and diff(B, A) disagree on refusing");
  if (!ab) {
    return 0;
  }
  check(ab->verdict == ba->verdict, "diff(A, B) and diff(B, A) give different verdicts");
  check(plain_counts(*ab) == counts(*ba), "diff(A, B) and diff(B, A) count causes differently");
  const std::string json = report::report_json(*ab);
  check(report::report_json(*ab) == json, "the JSON report is not deterministic");
  try {
    (void)nlohmann::json::parse(json);
  } catch (const std::exception&) {
    fuzz::fail("the JSON report does not parse");
  }
  (void)report::report_text(*ab, {});
  (void)report::report_markdown(*ab);
  (void)report::report_html(*ab);
  for (const auto& name : report::report_format_names()) {
    const auto format = *report::parse_report_format(name);
    const std::string once = report::render(format, *ab, {}, {});
    check(report::render(format, *ab, {}, {}) == once, "a report is not deterministic");
  }
  return 0;
}
