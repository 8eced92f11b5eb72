// Text helpers that do not depend on the locale (std::isspace does).
#pragma once

#include <string>
#include <string_view>

namespace reproimg::util {

// The white space of the C locale: space, \t, \n, \v, \f, \r.
constexpr bool is_ascii_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// s without its leading / leading and trailing ASCII white space.
inline std::string ltrim(std::string_view s)
{
  size_t b = 0;
  while (b < s.size() && is_ascii_space(s[b])) ++b;
  return std::string(s.substr(b));
}

inline std::string trim(std::string_view s)
{
  size_t b = 0;
  size_t e = s.size();
  while (b < e && is_ascii_space(s[b])) ++b;
  while (e > b && is_ascii_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

} // namespace reproimg::util
