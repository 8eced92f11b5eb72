// Deterministic JSON for image documents: keys sorted, no insignificant whitespace, UTF-8.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace reproimg::image {

using Json = nlohmann::json; // std::map underneath: keys come out sorted

// The canonical bytes of a document (the bytes its digest is taken over).
std::string canonical_json(const Json& doc);

// j[key] when j is an object and that is a string, else fallback (Json::value throws on a value
// of another type).
std::string string_or(const Json& j, const char* key, const std::string& fallback);

// RFC 3339 UTC time for a Unix time: "1970-01-01T00:00:00Z".
std::string rfc3339(std::int64_t seconds);

} // namespace reproimg::image
