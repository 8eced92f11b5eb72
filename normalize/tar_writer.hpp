// The canonical tar encoding (docs/canonical-tar.md): ustar headers holding raw name bytes, pax
// records (hdrcharset=BINARY for non-ASCII bytes) only where a value does not fit in its field,
// one fixed pax header name, two zero blocks at the end and nothing after.
#pragma once

#include "readers/entry.hpp"
#include "util/file.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace reproimg::normalize {

class CanonicalTarWriter {
public:
  explicit CanonicalTarWriter(util::ByteSink& out) : m_out(out) {}

  // Writes the (pax and) ustar header of e; for a regular file with size > 0, exactly e.size
  // bytes must follow through write_data(), then end_entry().
  void begin_entry(const readers::Entry& e);
  void write_data(const void* data, size_t size);
  // write_data() without a copy, where the sink lends room (util::ByteSink::lend).
  std::span<unsigned char> lend_data();
  void write_lent_data(size_t size);
  void end_entry();
  // The end-of-archive marker: two zero blocks.
  void finish();

  std::uint64_t bytes_written() const { return m_bytes; }

private:
  void emit(const void* data, size_t size);
  // Counts size more bytes of the entry's data, refusing more than its recorded size.
  void add_data(size_t size);

  util::ByteSink& m_out;
  std::uint64_t m_bytes = 0;
  std::uint64_t m_expected = 0;
  std::uint64_t m_written = 0;
  std::string m_path_for_errors;
};

// The header blocks (pax extended header, if any, then the ustar header) for e. Exposed for tests.
std::string encode_headers(const readers::Entry& e);

// A pax record "LEN KEY=VALUE\n" with LEN counting itself.
std::string pax_record(const std::string& key, const std::string& value);

} // namespace reproimg::normalize
