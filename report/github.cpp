// GitHub Actions workflow commands: a ::notice line with the verdict, then an ::error line per
// cause normalize does not remove (::warning for one it does) with the count and the hint. Every
// value is escaped as the runner reads it, so that no path can end a command or start another.
#include "report/formats.hpp"
#include "report/shared.hpp"
#include "util/error.hpp"

namespace reproimg::report {

using namespace detail;

std::string github_command(const char* command, const std::string& title, const std::string& message)
{
  return std::string("::") + command + " title=" + github_escape_property(title) + "::" + github_escape_data(message) +
         "\n";
}

std::string github_escape_data(const std::string& s)
{
  std::string out;
  for (const char c : s) {
    switch (c) {
    case '%': out += "%25"; break;
    case '\r': out += "%0D"; break;
    case '\n': out += "%0A"; break;
    default: out += c;
    }
  }
  return out;
}

std::string github_escape_property(const std::string& s)
{
  std::string out;
  for (const char c : github_escape_data(s)) {
    switch (c) {
    case ':': out += "%3A"; break;
    case ',': out += "%2C"; break;
    default: out += c;
    }
  }
  return out;
}

std::string report_github(const DiffResult& r, const Check& check)
{
  const std::string command = std::string("reproimg ") + command_name(check.command);
  std::string verdict = util::printable(verdict_sentence(r));
  if (!check.headline.empty()) verdict += " (" + util::printable(check.headline) + ")";
  std::string out = github_command("notice", command + ": " + verdict_name(r.verdict), verdict);
  for (const auto& [cause, ds] : group(r)) {
    const auto& s = r.summary.at(cause);
    const std::string count = with_commas(ds.size()) + (ds.size() == 1 ? " difference" : " differences");
    const std::string title = command + ": " + cause_name(cause) + " (" + count + ")";
    const std::string message = count + ": " + util::printable(s.hint);
    out += github_command(s.normalizable ? "warning" : "error", title, message);
  }
  return out;
}

} // namespace reproimg::report
