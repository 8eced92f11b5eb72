// Strict checks of raw tar header chains and pax records.
#include "readers/tar_headers.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <limits>

namespace reproimg::readers {

namespace {

bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

// Go's strconv.ParseInt(s, 10, 64): an optional sign, then one or more decimal digits, in range.
bool parses_as_int64(std::string_view s)
{
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) {
    return false;
  }
  const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
  std::uint64_t value = 0;
  for (char c : s) {
    if (!is_digit(c)) {
      return false;
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (limit - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  return true;
}

// Go's parsePAXTime: SECONDS as above, then optionally '.' and only digits.
bool parses_as_pax_time(std::string_view s)
{
  const size_t dot = s.find('.');
  if (!parses_as_int64(s.substr(0, dot))) {
    return false;
  }
  if (dot == std::string_view::npos) {
    return true;
  }
  const std::string_view fraction = s.substr(dot + 1);
  return std::all_of(fraction.begin(), fraction.end(), is_digit);
}

std::string shown(std::string_view value)
{
  constexpr size_t k_max = 40;
  std::string out(1, '\'');
  out += util::printable(value.substr(0, k_max));
  out += value.size() > k_max ? "...'" : "'";
  return out;
}

struct Numeric {
  bool negative = false;
  std::uint64_t value = 0; // saturated
};

// A numeric header field as tar readers take it: base-256 when the first byte has its high bit
// set (two's complement, the sign in bit 6), else octal after leading spaces, up to the first
// byte that is not an octal digit.
Numeric parse_numeric(const unsigned char* field, size_t width)
{
  Numeric n;
  constexpr std::uint64_t k_max = std::numeric_limits<std::uint64_t>::max() >> 3;
  if (field[0] & 0x80) {
    n.negative = (field[0] & 0x40) != 0;
    const unsigned char flip = n.negative ? 0xff : 0x00;
    std::uint64_t v = (field[0] ^ flip) & 0x3f;
    for (size_t i = 1; i < width; ++i) {
      if (v > (std::numeric_limits<std::uint64_t>::max() >> 8)) {
        v = std::numeric_limits<std::uint64_t>::max();
        break;
      }
      v = (v << 8) | static_cast<unsigned char>(field[i] ^ flip);
    }
    n.value = v;
    return n;
  }
  size_t i = 0;
  while (i < width && field[i] == ' ') {
    ++i;
  }
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    n.value = n.value > k_max ? std::numeric_limits<std::uint64_t>::max() : (n.value << 3) | (field[i] - '0');
  }
  return n;
}

bool is_zero_block(const unsigned char* p)
{
  return std::all_of(p, p + k_tar_block, [](unsigned char c) { return c == 0; });
}

const char* header_kind(char type)
{
  switch (type) {
  case 'x': return "pax extended header ('x')";
  case 'g': return "pax global header ('g')";
  case 'X': return "Solaris extended header ('X')";
  case 'L': return "GNU long name header ('L')";
  case 'K': return "GNU long link header ('K')";
  case 'A': return "Solaris ACL header ('A')";
  case 'V': return "GNU volume header ('V')";
  default: return "header";
  }
}

bool is_extension_header(char type)
{
  switch (type) {
  case 'x':
  case 'g':
  case 'X':
  case 'L':
  case 'K':
  case 'A':
  case 'V': return true;
  default: return false;
  }
}

// One header of a chain, as ChainWalker gives them out.
struct ChainStep {
  enum class Kind { end, extension, own_header } kind = Kind::end;
  char type = 0;
  size_t at = 0;                          // the header block's offset in the chain
  const unsigned char* block = nullptr;   // the header block
  Numeric size;                           // its size field
  std::string_view data;                  // an extension header's data (without padding)
};

// The headers of a chain in order: extension headers with their data, then the entry's own
// header. It ends early (Kind::end) at an all-zero block (end of archive), where an extension
// header's data is not all there (libarchive took the chain otherwise), after an extension header
// with a negative size, and after a 'V' header with a size (libarchive 3.6 reads no data after a
// volume label, later versions skip its size: which one this libarchive did is not known here).
class ChainWalker {
public:
  explicit ChainWalker(std::string_view chain) : m_chain(chain) {}

  ChainStep next()
  {
    ChainStep step;
    if (m_stopped || m_chain.size() - m_pos < k_tar_block) {
      return step;
    }
    const auto* h = reinterpret_cast<const unsigned char*>(m_chain.data()) + m_pos;
    if (is_zero_block(h)) {
      return step;
    }
    step.type = static_cast<char>(h[156]);
    step.at = m_pos;
    step.block = h;
    step.size = parse_numeric(h + 124, 12);
    if (!is_extension_header(step.type)) {
      step.kind = ChainStep::Kind::own_header;
      m_stopped = true;
      return step;
    }
    step.kind = ChainStep::Kind::extension;
    if (step.size.negative) {
      m_stopped = true;
      return step;
    }
    m_pos += k_tar_block;
    if (step.type == 'V') {
      m_stopped = step.size.value != 0;
      return step;
    }
    if (step.size.value > m_chain.size() - m_pos) {
      return ChainStep{};
    }
    step.data = m_chain.substr(m_pos, static_cast<size_t>(step.size.value));
    const std::uint64_t padded = (step.size.value + k_tar_block - 1) / k_tar_block * k_tar_block;
    if (padded > m_chain.size() - m_pos) {
      m_stopped = true; // the data is judged, nothing after it
    } else {
      m_pos += static_cast<size_t>(padded);
    }
    return step;
  }

private:
  std::string_view m_chain;
  size_t m_pos = 0;
  bool m_stopped = false;
};


} // namespace

std::optional<std::string> check_pax_records(std::string_view records, bool global)
{
  size_t sparse_values = 0; // GNU.sparse.offset / numbytes seen, in that alternating order
  while (!records.empty()) {
    const size_t space = records.find(' ');
    if (space == std::string_view::npos || space == 0 ||
        !std::all_of(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(space), is_digit)) {
      return "pax record does not start with its length";
    }
    std::uint64_t length = 0;
    for (size_t i = 0; i < space; ++i) {
      length = length * 10 + static_cast<std::uint64_t>(records[i] - '0');
      if (length > records.size()) {
        break;
      }
    }
    if (length < 5 || length > records.size() || length <= space + 1) {
      return "pax record length " + shown(records.substr(0, space)) + " does not match the record";
    }
    const std::string_view record = records.substr(space + 1, static_cast<size_t>(length) - space - 1);
    if (record.back() != '\n') {
      return "pax record length " + shown(records.substr(0, space)) + " does not end at a newline";
    }
    const std::string_view body = record.substr(0, record.size() - 1);
    const size_t eq = body.find('=');
    if (eq == std::string_view::npos) {
      return "pax record without '='";
    }
    const std::string_view key = body.substr(0, eq);
    const std::string_view value = body.substr(eq + 1);
    if (key.empty()) {
      return "pax record with an empty key";
    }
    if (key.find('\0') != std::string_view::npos) {
      return "NUL inside the pax key " + shown(key);
    }
    if ((key == "path" || key == "linkpath" || key == "uname" || key == "gname") &&
        value.find('\0') != std::string_view::npos) {
      return "NUL inside the pax " + std::string(key) + " value " + shown(value);
    }
    if (!global) {
      if (key == "GNU.sparse.offset" || key == "GNU.sparse.numbytes") {
        const bool want_offset = sparse_values % 2 == 0;
        if ((key == "GNU.sparse.offset") != want_offset || value.find(',') != std::string_view::npos) {
          return "pax GNU.sparse.offset and GNU.sparse.numbytes records out of order";
        }
        ++sparse_values;
      }
      // An empty value deletes the record (the header's own field is used instead).
      if (!value.empty()) {
        if ((key == "mtime" || key == "atime" || key == "ctime") && !parses_as_pax_time(value)) {
          return "unparsable pax " + std::string(key) + " " + shown(value);
        }
        if ((key == "size" || key == "uid" || key == "gid") && !parses_as_int64(value)) {
          return "unparsable pax " + std::string(key) + " " + shown(value);
        }
      }
    }
    records.remove_prefix(static_cast<size_t>(length));
  }
  return std::nullopt;
}

std::optional<HeaderFault> check_header_chain(std::string_view chain)
{
  ChainWalker walker(chain);
  for (ChainStep step = walker.next(); step.kind == ChainStep::Kind::extension; step = walker.next()) {
    if (step.size.negative) {
      return HeaderFault{step.at, std::string(header_kind(step.type)) + " with a negative size"};
    }
    if (step.type == 'x' || step.type == 'g' || step.type == 'X') {
      if (auto problem = check_pax_records(step.data, step.type == 'g')) {
        return HeaderFault{step.at, std::move(*problem)};
      }
    }
  }
  return std::nullopt;
}

std::optional<StoredData> stored_data(std::string_view chain)
{
  std::optional<std::uint64_t> pax_size;
  bool pax = false;
  ChainWalker walker(chain);
  for (ChainStep step = walker.next();; step = walker.next()) {
    if (step.kind == ChainStep::Kind::end || step.size.negative) {
      return std::nullopt;
    }
    if (step.kind == ChainStep::Kind::own_header) {
      StoredData stored;
      stored.size = pax_size ? *pax_size : step.size.value;
      const bool gnu_magic =
          std::equal(step.block + 257, step.block + 265, reinterpret_cast<const unsigned char*>("ustar  \0"));
      stored.gnu_realsize = gnu_magic && step.type != 'S' && step.block[483] != 0 && !pax;
      return stored;
    }
    if (step.type != 'x' && step.type != 'X') {
      continue;
    }
    pax = true;
    // The records were checked (check_pax_records) before this is asked: well framed.
    std::string_view records = step.data;
    while (!records.empty()) {
      const size_t space = records.find(' ');
      std::uint64_t length = 0;
      for (size_t i = 0; i < space && i < records.size() && length <= records.size(); ++i) {
        length = length * 10 + static_cast<std::uint64_t>(records[i] - '0');
      }
      if (space == std::string_view::npos || length <= space + 1 || length > records.size()) {
        return std::nullopt;
      }
      const std::string_view body = records.substr(space + 1, static_cast<size_t>(length) - space - 2);
      if (body.substr(0, 5) == "size=" && body.size() > 5) {
        std::uint64_t value = 0;
        for (char c : body.substr(5)) {
          if (!is_digit(c) || value > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) {
            return std::nullopt;
          }
          value = value * 10 + static_cast<std::uint64_t>(c - '0');
        }
        pax_size = value;
      }
      records.remove_prefix(static_cast<size_t>(length));
    }
  }
}

} // namespace reproimg::readers
