// Lower-case hexadecimal encoding.
#include "util/hex.hpp"

namespace reproimg::util {

std::string to_hex(const unsigned char* data, size_t size)
{
  static const char* const k_digits = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = k_digits[data[i] >> 4];
    out[2 * i + 1] = k_digits[data[i] & 15];
  }
  return out;
}

} // namespace reproimg::util
