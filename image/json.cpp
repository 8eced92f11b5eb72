// Deterministic JSON serialisation.
#include "image/json.hpp"

#include <ctime>

namespace reproimg::image {

std::string canonical_json(const Json& doc)
{
  // dump(): no indentation, no spaces; strict UTF-8 (invalid bytes would throw).
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

std::string string_or(const Json& j, const char* key, const std::string& fallback)
{
  if (j.is_object() && j.contains(key) && j[key].is_string()) {
    return j[key].get<std::string>();
  }
  return fallback;
}

std::string rfc3339(std::int64_t seconds)
{
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

} // namespace reproimg::image
