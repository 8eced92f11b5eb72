// Lower-case hexadecimal encoding.
#pragma once

#include <string>
#include <string_view>

namespace reproimg::util {

std::string to_hex(const unsigned char* data, size_t size);
inline std::string to_hex(std::string_view bytes)
{
  return to_hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

} // namespace reproimg::util
