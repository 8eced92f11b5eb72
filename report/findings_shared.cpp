// One finding as the audit renderings show it (see findings_shared.hpp).
#include "report/findings_shared.hpp"

#include "util/error.hpp"

namespace reproimg::report {

namespace detail {

std::string finding_where(const Finding& f)
{
  std::string out = f.layer ? "layer " + std::to_string(*f.layer) : std::string("image");
  if (!f.paths.empty()) out += ": " + util::printable(f.paths.front());
  if (f.paths.size() > 1) out += " (+" + std::to_string(f.paths.size() - 1) + " more)";
  return out;
}

std::string finding_line(const Finding& f)
{
  return std::string(severity_name(f.severity)) + " " + f.check + " " + finding_where(f) + ": " +
         util::printable(f.reason);
}

} // namespace detail

} // namespace reproimg::report
