// What the audit renderings share beside findings.hpp: one finding as a line. Internal to report/.
#pragma once

#include "report/findings.hpp"

#include <string>

namespace reproimg::report::detail {

// "layer 1: etc/ssh/key (+2 more)", "image: config:/User".
std::string finding_where(const Finding& f);
// "high private-key layer 1: root/.ssh/id_rsa: a PEM private key".
std::string finding_line(const Finding& f);

} // namespace reproimg::report::detail
