// Strict checks of raw tar header blocks and pax records: what libarchive 3.6 accepts silently
// (a NUL inside a pax path, an unparsable pax time, a negative size in an extension header).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reproimg::readers {

// A tar archive is a sequence of 512-byte blocks: headers, and data padded to a whole block.
constexpr size_t k_tar_block = 512;

struct HeaderFault {
  std::uint64_t offset = 0; // of the header block at fault, from the start of the chain
  std::string message;
};

// Checks one header chain: the bytes libarchive consumed to read one entry, i.e. the extension
// headers before the entry's own header (pax 'x', 'g' and Solaris 'X', GNU 'L', 'K' and 'V',
// Solaris 'A') with their data, then that header. The entry's own header, what follows it, and a
// chain that ends early are left to libarchive, which has checked them: only what it does not
// check is judged here. An all-zero block ends the check (end of archive).
std::optional<HeaderFault> check_header_chain(std::string_view chain);

// The records of one pax extended header, by the rules of Go's archive/tar (the strictest
// common reader): "LEN KEY=VALUE\n" with LEN the record's exact length, a non-empty key without
// NUL, no NUL in a path, linkpath, uname or gname value; for a per-file header ('x', not global)
// a non-empty mtime, atime or ctime must be [-]SECONDS[.DIGITS], a non-empty size, uid or gid a
// decimal integer, and GNU.sparse.offset / GNU.sparse.numbytes must alternate. Returns what is
// wrong, or nothing.
std::optional<std::string> check_pax_records(std::string_view records, bool global);

// What a chain's own header (the entry's, after its extension headers) says about the data stored
// after it, where libarchive 3.6 may report another size for the entry.
struct StoredData {
  std::uint64_t size = 0; // bytes stored: the last pax 'size' record, else the size field
  // A GNU header of a file that is not sparse ('S') with a non-zero "realsize" field and no pax
  // header: libarchive takes that field as the entry's size; GNU tar, Go and Python ignore it
  // and read the size field, as a non-sparse entry has no other size.
  bool gnu_realsize = false;
};
// Nothing when the chain does not hold the entry's own header or its size cannot be read.
std::optional<StoredData> stored_data(std::string_view chain);

} // namespace reproimg::readers
