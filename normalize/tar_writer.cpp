// The canonical tar encoding.
#include "normalize/tar_writer.hpp"

#include "readers/tar_headers.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cstring>
#include <map>

namespace reproimg::normalize {

namespace {

bool is_ascii(const std::string& s)
{
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80 && c != 0; });
}

// Writes value as width-1 zero-padded octal digits and a NUL; false if it does not fit.
bool put_octal(char* field, size_t width, std::uint64_t value)
{
  const size_t digits = width - 1;
  if (digits < 22 && value >= (std::uint64_t{1} << (3 * digits))) {
    return false;
  }
  for (size_t i = digits; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  field[digits] = '\0';
  return true;
}

size_t decimal_digits(size_t n)
{
  size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

} // namespace

std::string pax_record(const std::string& key, const std::string& value)
{
  const size_t body = key.size() + value.size() + 3; // ' ' '=' '\n'
  size_t len = body + decimal_digits(body);
  if (decimal_digits(len) != decimal_digits(body)) {
    len = body + decimal_digits(len);
  }
  std::string out = std::to_string(len);
  out += ' ';
  out += key;
  out += '=';
  out += value;
  out += '\n';
  return out;
}

std::string encode_headers(const readers::Entry& e)
{
  std::map<std::string, std::string> pax; // sorted keys: deterministic record order
  bool binary = false;

  char h[readers::k_tar_block];
  std::memset(h, 0, sizeof h);

  std::string name = e.path;
  if (e.type == readers::EntryType::directory) {
    name += '/';
  }
  if (name.size() <= 100) {
    std::memcpy(h, name.data(), name.size());
  } else {
    pax["path"] = name;
    binary = binary || !is_ascii(name);
    std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  }

  put_octal(h + 100, 8, e.mode & 07777);
  if (e.uid < 0 || !put_octal(h + 108, 8, static_cast<std::uint64_t>(e.uid))) {
    pax["uid"] = std::to_string(e.uid);
    put_octal(h + 108, 8, 0);
  }
  if (e.gid < 0 || !put_octal(h + 116, 8, static_cast<std::uint64_t>(e.gid))) {
    pax["gid"] = std::to_string(e.gid);
    put_octal(h + 116, 8, 0);
  }
  const std::uint64_t size = e.type == readers::EntryType::regular ? e.size : 0;
  if (!put_octal(h + 124, 12, size)) {
    pax["size"] = std::to_string(size);
    put_octal(h + 124, 12, 0);
  }
  if (e.mtime < 0 || !put_octal(h + 136, 12, static_cast<std::uint64_t>(e.mtime))) {
    pax["mtime"] = std::to_string(e.mtime);
    put_octal(h + 136, 12, 0);
  }
  h[156] = static_cast<char>(e.type);

  if (e.type == readers::EntryType::symlink || e.type == readers::EntryType::hardlink) {
    const std::string& link = e.link_target;
    if (link.size() <= 100) {
      std::memcpy(h + 157, link.data(), link.size());
    } else {
      pax["linkpath"] = link;
      binary = binary || !is_ascii(link);
      std::memcpy(h + 157, link.data(), std::min<size_t>(link.size(), 100));
    }
  }
  std::memcpy(h + 257, "ustar\0" "00", 8);
  if (!e.uname.empty()) {
    if (e.uname.size() <= 31) {
      std::memcpy(h + 265, e.uname.data(), e.uname.size());
    } else {
      pax["uname"] = e.uname;
      binary = binary || !is_ascii(e.uname);
    }
  }
  if (!e.gname.empty()) {
    if (e.gname.size() <= 31) {
      std::memcpy(h + 297, e.gname.data(), e.gname.size());
    } else {
      pax["gname"] = e.gname;
      binary = binary || !is_ascii(e.gname);
    }
  }
  const bool device = e.type == readers::EntryType::chardev || e.type == readers::EntryType::blockdev;
  if (!put_octal(h + 329, 8, device ? e.devmajor : 0)) {
    pax["SCHILY.devmajor"] = std::to_string(e.devmajor);
    put_octal(h + 329, 8, 0);
  }
  if (!put_octal(h + 337, 8, device ? e.devminor : 0)) {
    pax["SCHILY.devminor"] = std::to_string(e.devminor);
    put_octal(h + 337, 8, 0);
  }
  for (const auto& [key, value] : e.xattrs) {
    pax["SCHILY.xattr." + key] = value;
  }
  if (binary) {
    pax["hdrcharset"] = "BINARY";
  }

  // Checksum: the sum of all header bytes with the checksum field read as spaces.
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : std::string_view(h, sizeof h)) {
    sum += c;
  }
  put_octal(h + 148, 7, sum); // six digits and a NUL, then the space already there
  h[155] = ' ';

  std::string out;
  if (!pax.empty()) {
    std::string records;
    for (const auto& [key, value] : pax) {
      records += pax_record(key, value);
    }
    readers::Entry x;
    x.path = "././@PaxHeader";
    x.type = readers::EntryType::regular;
    x.mode = 0644;
    x.size = records.size();
    std::string xh = encode_headers(x);
    xh[156] = 'x';
    // Recompute the checksum for the changed typeflag.
    std::memset(xh.data() + 148, ' ', 8);
    unsigned xsum = 0;
    for (unsigned char c : xh) {
      xsum += c;
    }
    put_octal(xh.data() + 148, 7, xsum);
    xh[155] = ' ';
    out += xh;
    out += records;
    out.append((readers::k_tar_block - records.size() % readers::k_tar_block) % readers::k_tar_block, '\0');
  }
  out.append(h, sizeof h);
  return out;
}

void CanonicalTarWriter::emit(const void* data, size_t size)
{
  m_out.write(data, size);
  m_bytes += size;
}

void CanonicalTarWriter::begin_entry(const readers::Entry& e)
{
  const std::string headers = encode_headers(e);
  emit(headers.data(), headers.size());
  m_expected = e.type == readers::EntryType::regular ? e.size : 0;
  m_written = 0;
  m_path_for_errors = e.path;
}

void CanonicalTarWriter::add_data(size_t size)
{
  if (m_written + size > m_expected) {
    throw util::Error(util::Location{"", m_path_for_errors, std::nullopt},
                      "content is longer than its recorded size (was the input changed while reading?)");
  }
  m_written += size;
}

void CanonicalTarWriter::write_data(const void* data, size_t size)
{
  add_data(size);
  emit(data, size);
}

std::span<unsigned char> CanonicalTarWriter::lend_data()
{
  return m_out.lend();
}

void CanonicalTarWriter::write_lent_data(size_t size)
{
  add_data(size);
  m_out.write_lent(size);
  m_bytes += size;
}

void CanonicalTarWriter::end_entry()
{
  if (m_written != m_expected) {
    throw util::Error(util::Location{"", m_path_for_errors, std::nullopt},
                      "content is shorter than its recorded size (was the input changed while reading?)");
  }
  static const char k_zeros[readers::k_tar_block] = {};
  const size_t pad = static_cast<size_t>((readers::k_tar_block - m_written % readers::k_tar_block) % readers::k_tar_block);
  if (pad > 0) {
    emit(k_zeros, pad);
  }
}

void CanonicalTarWriter::finish()
{
  static const char k_zeros[2 * readers::k_tar_block] = {};
  emit(k_zeros, sizeof k_zeros);
  m_out.finish();
}

} // namespace reproimg::normalize
