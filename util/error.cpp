// Error formatting shared by all areas.
#include "util/error.hpp"

#include <cerrno>
#include <cstring>

namespace reproimg::util {

std::string Error::format(const Location& where, const std::string& message)
{
  std::string out;
  if (!where.file.empty()) {
    out += printable(where.file);
    if (where.line) {
      out += ":" + std::to_string(*where.line);
    }
    out += ": ";
  }
  if (where.entry) {
    out += "entry ";
    out += printable(*where.entry);
    out += ": ";
  }
  if (where.offset) {
    out += where.offset_kind == OffsetKind::tar ? "at tar offset " : "at byte ";
    out += std::to_string(*where.offset);
    out += ": ";
  }
  out += message;
  return out;
}

Error Error::in_entry(const std::string& entry) const
{
  if (!m_where || m_where->entry || m_where->file.empty()) {
    return *this;
  }
  Location where = *m_where;
  where.entry = entry;
  return Error(where, m_message, m_code);
}

void Error::rethrow_in_entry(const std::string& entry) const
{
  if (!m_where || m_where->entry || m_where->file.empty()) {
    if (const auto* io = dynamic_cast<const IoError*>(this)) {
      throw IoError(*io);
    }
    throw Error(*this);
  }
  Location where = *m_where;
  where.entry = entry;
  rethrow_as(where, m_message);
}

void Error::rethrow_as(const Location& where, const std::string& message) const
{
  if (dynamic_cast<const IoError*>(this)) {
    throw IoError(where, message, m_code);
  }
  throw Error(where, message, m_code);
}

namespace {

// Length of a valid UTF-8 sequence starting at s[i], or 0. Valid as RFC 3629 defines it: the
// second byte's range excludes overlong forms, surrogates and code points above U+10FFFF, which
// JSON encoders (the reports) refuse.
size_t utf8_sequence_length(std::string_view s, size_t i)
{
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) {
      second_min = 0xA0;
    } else if (c == 0xED) {
      second_max = 0x9F;
    }
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) {
      second_min = 0x90;
    } else if (c == 0xF4) {
      second_max = 0x8F;
    }
  } else {
    return 0;
  }
  if (i + n > s.size()) {
    return 0;
  }
  const auto second = static_cast<unsigned char>(s[i + 1]);
  if (second < second_min || second > second_max) {
    return 0;
  }
  for (size_t k = 2; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
      return 0;
    }
  }
  return n;
}

} // namespace

std::string printable(std::string_view bytes)
{
  static const char* const k_hex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t n = utf8_sequence_length(bytes, i);
      if (n > 0) {
        out.append(bytes.substr(i, n));
        i += n;
        continue;
      }
    }
    out += "\\x";
    out += k_hex[c >> 4];
    out += k_hex[c & 15];
    ++i;
  }
  return out;
}

void throw_errno(const std::string& what, const std::string& file)
{
  const int e = errno;
  throw IoError(Location{file, std::nullopt, std::nullopt}, what + ": " + std::strerror(e));
}

} // namespace reproimg::util
