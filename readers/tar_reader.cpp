// The libarchive streaming loop (archive_read.3), with every return code handled.
#include "readers/tar_reader.hpp"

#include "digest/background_sha256.hpp"
#include "readers/archive_input.hpp"
#include "readers/tar_headers.hpp"
#include "digest/sha256.hpp"
#include "util/error.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <algorithm>
#include <memory>
#include <vector>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace reproimg::readers {

namespace {

// Where in the tar stream (decompressed) an entry's header, or a fault, is.
util::Location at_tar_offset(const std::string& file, std::optional<std::string> entry, std::int64_t offset)
{
  return util::Location{file, std::move(entry), offset, util::OffsetKind::tar};
}

EntryType entry_type(archive_entry* e)
{
  if (archive_entry_hardlink(e)) {
    return EntryType::hardlink;
  }
  switch (archive_entry_filetype(e)) {
  case AE_IFDIR: return EntryType::directory;
  case AE_IFLNK: return EntryType::symlink;
  case AE_IFCHR: return EntryType::chardev;
  case AE_IFBLK: return EntryType::blockdev;
  case AE_IFIFO: return EntryType::fifo;
  case AE_IFSOCK: return EntryType::socket;
  default: return EntryType::regular; // as every tar reader treats an unknown typeflag
  }
}

// libarchive words a stream cut short by the call that meets its end ("Truncated tar archive",
// "Truncated input file (needed N bytes, only M available)"): one message for each place, so
// that every command (normalize reads contents, digest skips them) says the same of one file.
std::string read_failure(const ArchiveInput& in, archive* a, const char* inside)
{
  const std::string message = in.message(a);
  if (message.rfind("Truncated", 0) == 0) {
    return std::string("truncated: the tar stream ends inside ") + inside + " (a partial download or copy?)";
  }
  return message;
}

class TarEntryData : public EntryData {
public:
  TarEntryData(archive* a, const ArchiveInput& in, const TarInput& input, const SourceEntry& entry,
               std::optional<std::uint64_t> offset)
      : m_a(a), m_in(in), m_input(input), m_entry(entry), m_offset(offset)
  {
  }

  std::optional<std::uint64_t> source_offset() const override { return m_offset; }

  void read(util::ByteSink& sink, std::uint64_t max_fill) override
  {
    static const unsigned char k_zeros[65536] = {};
    std::uint64_t pos = 0;
    std::uint64_t filled = 0;
    auto fill_to = [&](std::uint64_t target) {
      if (target > pos) {
        filled += target - pos;
        if (filled > max_fill) {
          throw util::Error(where(), "sparse file expands to more than " + std::to_string(max_fill) +
                                         " bytes of holes (raise --max-sparse-fill or --exclude it)");
        }
      }
      while (pos < target) {
        const size_t n = target - pos < sizeof k_zeros ? static_cast<size_t>(target - pos) : sizeof k_zeros;
        sink.write(k_zeros, n);
        pos += n;
      }
    };
    for (;;) {
      const void* buf = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      const int rc = archive_read_data_block(m_a, &buf, &size, &offset);
      if (rc == ARCHIVE_EOF) {
        break;
      }
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
        m_in.rethrow_read_error(m_entry.path);
        throw util::Error(where(), read_failure(m_in, m_a, "this entry's data"));
      }
      if (offset < 0 || static_cast<std::uint64_t>(offset) < pos ||
          static_cast<std::uint64_t>(offset) + size > m_entry.size) {
        throw util::Error(where(), "data block outside the entry's size (damaged sparse map?)");
      }
      fill_to(static_cast<std::uint64_t>(offset));
      if (size > 0) {
        sink.write(buf, size);
        pos += size;
      }
    }
    fill_to(m_entry.size);
  }

private:
  util::Location where() const
  {
    return at_tar_offset(m_input.name, m_entry.path, archive_read_header_position(m_a));
  }

  archive* m_a;
  const ArchiveInput& m_in;
  const TarInput& m_input;
  const SourceEntry& m_entry;
  std::optional<std::uint64_t> m_offset;
};

} // namespace

TarInput tar_input_of(int fd, std::string name)
{
  TarInput input;
  input.name = std::move(name);
  input.fd = fd;
  struct stat st {};
  input.seekable = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  input.file_size = input.seekable ? static_cast<std::uint64_t>(st.st_size) : 0;
  return input;
}

std::string ending_note(TarEnding ending)
{
  switch (ending) {
  case TarEnding::end_blocks: return "";
  case TarEnding::no_end_blocks:
    return "no end-of-archive blocks: Go-based tools read this layer; GNU tar and scanners that use it may reject it";
  case TarEnding::no_padding:
    return "no end-of-archive blocks, and the last entry's data not padded to 512 bytes: Go-based tools read this "
           "layer; GNU tar and scanners that use it reject it";
  }
  return "";
}

namespace {

// The attributes of the entry libarchive just read; the entry's data size from the raw chain.
SourceEntry source_entry_of(archive_entry* e, const std::optional<StoredData>& stored, const util::Location& where)
{
  SourceEntry entry;
  const char* path = archive_entry_pathname(e);
  entry.path = path ? path : "";
  entry.type = entry_type(e);
  entry.mode = static_cast<std::uint32_t>(archive_entry_perm(e)) & 07777;
  entry.uid = archive_entry_uid(e);
  entry.gid = archive_entry_gid(e);
  if (entry.uid < 0 || entry.gid < 0) {
    throw util::Error(where, "negative uid or gid");
  }
  if (const char* u = archive_entry_uname(e)) entry.uname = u;
  if (const char* g = archive_entry_gname(e)) entry.gname = g;
  entry.mtime = archive_entry_mtime(e);
  entry.mtime_nsec = archive_entry_mtime_nsec(e);
  entry.has_atime = archive_entry_atime_is_set(e) != 0;
  entry.has_ctime = archive_entry_ctime_is_set(e) != 0;
  entry.atime = entry.has_atime ? archive_entry_atime(e) : 0;
  entry.ctime = entry.has_ctime ? archive_entry_ctime(e) : 0;
  entry.has_birthtime = archive_entry_birthtime_is_set(e) != 0;
  entry.has_acl = archive_entry_acl_count(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS | ARCHIVE_ENTRY_ACL_TYPE_DEFAULT |
                                                 ARCHIVE_ENTRY_ACL_TYPE_NFS4) > 0;
  unsigned long set = 0;
  unsigned long clear = 0;
  archive_entry_fflags(e, &set, &clear);
  entry.has_fflags = set != 0 || clear != 0;
  entry.sparse = archive_entry_sparse_count(e) > 0;
  const la_int64_t size = archive_entry_size(e);
  if (size < 0) {
    throw util::Error(where, "negative size");
  }
  entry.size = entry.type == EntryType::regular ? static_cast<std::uint64_t>(size) : 0;
  if (entry.type == EntryType::regular && !entry.sparse && stored && stored->gnu_realsize) {
    entry.size = stored->size; // libarchive delivers that many bytes; the realsize field is ignored
  }
  if (entry.type == EntryType::hardlink) {
    entry.link_target = archive_entry_hardlink(e);
  } else if (entry.type == EntryType::symlink) {
    const char* t = archive_entry_symlink(e);
    entry.link_target = t ? t : "";
  }
  if (entry.type == EntryType::chardev || entry.type == EntryType::blockdev) {
    entry.devmajor = static_cast<std::uint32_t>(archive_entry_rdevmajor(e));
    entry.devminor = static_cast<std::uint32_t>(archive_entry_rdevminor(e));
  }
  archive_entry_xattr_reset(e);
  const char* xname = nullptr;
  const void* xvalue = nullptr;
  size_t xsize = 0;
  while (archive_entry_xattr_next(e, &xname, &xvalue, &xsize) == ARCHIVE_OK) {
    entry.xattrs.emplace_back(xname ? xname : "", std::string(static_cast<const char*>(xvalue), xsize));
  }
  return entry;
}

// The bytes are not the blob's: the error, with what the blob's owner (a cache) adds to it.
[[noreturn]] void blob_mismatch(const BlobExpectation& expect, const util::Location& blob, const std::string& message)
{
  throw util::Error(blob, message + (expect.on_mismatch ? expect.on_mismatch() : std::string()));
}

// The input and the tar reader over it, with the hashing a digest or a blob check asks for.
class TarStream {
public:
  TarStream(const TarInput& input, const TarReadOptions& options, util::Progress& progress)
      : m_input(input), m_hashing(options.digests || input.expect), m_reader(new_restricted_reader())
  {
    if (m_hashing) {
      m_stored_hash.emplace();
    }
    m_in.emplace(input.fd, input.seekable, input.name,
                 ArchiveInput::Tees{m_stored_hash ? &*m_stored_hash : nullptr, nullptr});
    m_in->set_progress(&progress);
    m_in->set_growing(input.growing.get());
    // A regular file is read by position (pread) from where its descriptor stands to its end: a
    // skip past entry data then costs no system call, and the descriptor's offset is left alone.
    m_start = input.range_offset;
    m_available = input.range_length ? *input.range_length : input.file_size;
    if (input.range_length) {
      m_in->set_range(m_start, m_available);
    } else if (input.seekable) {
      const off_t here = ::lseek(input.fd, 0, SEEK_CUR);
      if (here >= 0 && static_cast<std::uint64_t>(here) <= input.file_size) {
        m_start = static_cast<std::uint64_t>(here);
        m_available = input.file_size - m_start;
        m_in->set_range(m_start, m_available);
      }
    }
    // The input as stored is what is read (or skipped) to its end: its size is the work's.
    progress.add_total(m_available);
    m_in->sniff_compression();
    const bool compressed = std::string(m_in->compression()) != "none";
    // Uncompressed, the diff_id is the blob digest: hashed once.
    if (m_hashing && compressed) {
      m_tar_hash.emplace(options.tar_tee);
      m_in->set_tar_tee(&*m_tar_hash);
    } else {
      m_in->set_tar_tee(options.tar_tee);
    }
    m_in->attach(m_reader.get());
  }

  archive* reader() const { return m_reader.get(); }
  ArchiveInput& in() { return *m_in; }
  std::uint64_t start() const { return m_start; }
  std::uint64_t available() const { return m_available; }

  // After the end of the archive: the rest read, the identities taken and checked. end_blocks_at:
  // where the end blocks start when libarchive found one zero block only.
  void finish(TarReadResult& result, std::optional<std::uint64_t> lone_end_block_at)
  {
    m_in->drain(lone_end_block_at.has_value());
    if (lone_end_block_at) {
      // One zero block then the end is a whole ending (Go, libarchive and GNU tar read it); a
      // second block begun and cut short is not: Go's archive/tar refuses it (unexpected EOF).
      const std::uint64_t second = *lone_end_block_at + k_tar_block;
      const std::uint64_t length = m_in->tar_bytes();
      if (length > second && length < second + k_tar_block) {
        throw util::Error(at_tar_offset(m_input.name, std::nullopt, static_cast<std::int64_t>(second)),
                          "truncated inside the end-of-archive blocks: the second zero block has " +
                              std::to_string(length - second) + " of its 512 bytes");
      }
    }
    result.raw_bytes = m_in->raw_bytes();
    result.stream_bytes = m_in->tar_bytes();
    if (!m_hashing) {
      return;
    }
    result.blob_digest = m_stored_hash->digest();
    result.diff_id = m_tar_hash ? m_tar_hash->digest() : result.blob_digest;
    if (m_input.expect) {
      check_expectation(*m_input.expect, result);
    }
  }

private:
  void check_expectation(const BlobExpectation& expect, const TarReadResult& result) const
  {
    const util::Location blob{m_input.name, std::nullopt, std::nullopt};
    if (expect.size && result.raw_bytes != *expect.size) {
      blob_mismatch(expect, blob, "size " + std::to_string(result.raw_bytes) + " differs from the descriptor's " +
                                      std::to_string(*expect.size));
    }
    if (!expect.digest.empty() && result.blob_digest != expect.digest) {
      blob_mismatch(expect, blob, "content digest " + result.blob_digest + " differs from the descriptor's " +
                                      expect.digest);
    }
    if (!expect.diff_id.empty() && result.diff_id != expect.diff_id) {
      throw util::Error(blob, "diff_id " + result.diff_id + " differs from " +
                                  (expect.diff_id_source.empty() ? std::string("the config's") : expect.diff_id_source) +
                                  " " + expect.diff_id);
    }
  }

  const TarInput& m_input;
  bool m_hashing;
  ArchiveReader m_reader;
  std::optional<digest::BackgroundHashingSink> m_stored_hash;
  std::optional<digest::BackgroundHashingSink> m_tar_hash;
  std::optional<ArchiveInput> m_in;
  std::uint64_t m_start = 0;
  std::uint64_t m_available = 0;
};

// Refuses what libarchive 3.6 takes without a word (see check_header_chain); returns the entry's
// path, or nothing at the end of the archive.
void check_chain(const TarInput& input, std::string_view chain, const char* entry_path, la_int64_t header_offset)
{
  if (const auto fault = check_header_chain(chain)) {
    throw util::Error(at_tar_offset(input.name, entry_path ? std::optional<std::string>(entry_path) : std::nullopt,
                                    header_offset + static_cast<la_int64_t>(fault->offset)),
                      fault->message);
  }
}

// How the archive ended, once archive_read_next_header said so: consumed, the bytes it read then.
TarEnding ending_of(const TarInput& input, ArchiveInput& in, std::uint64_t entries, std::uint64_t consumed,
                    la_int64_t offset)
{
  if (entries == 0 && consumed == 0) {
    // Nothing at all: an empty file, or a compressed stream of nothing. Even an empty layer has
    // its end-of-archive blocks; a download that never started does not.
    throw util::Error(at_tar_offset(input.name, std::nullopt, offset),
                      "empty: no tar header and no end-of-archive blocks (an empty layer is 1024 zero bytes)");
  }
  if (in.synthesized() > 0) {
    return TarEnding::no_padding;
  }
  return consumed == 0 ? TarEnding::no_end_blocks : TarEnding::end_blocks;
}

} // namespace

namespace {

// A blob that could not be read as a tar stream: if its bytes are not the ones its descriptor
// names, that is the error to report (a tampered or damaged download), not the symptom found first.
void check_blob_bytes(const TarInput& input)
{
  const BlobExpectation& expect = *input.expect;
  if (input.growing) {
    input.growing->wait_done(); // a download that failed: its error is the one to report
  }
  struct stat st {};
  if (::fstat(input.fd, &st) != 0 || !S_ISREG(st.st_mode) || (expect.digest.empty() && !expect.size)) {
    return; // a pipe cannot be read again
  }
  const std::uint64_t size = input.range_length ? *input.range_length : static_cast<std::uint64_t>(st.st_size);
  const util::Location blob{input.name, std::nullopt, std::nullopt};
  if (expect.size && size != *expect.size) {
    blob_mismatch(expect, blob, "size " + std::to_string(size) + " differs from the descriptor's " +
                                    std::to_string(*expect.size));
  }
  if (expect.digest.empty()) {
    return;
  }
  digest::Sha256 hash;
  std::vector<unsigned char> buffer(1 << 20);
  for (std::uint64_t done = 0; done < size;) {
    const auto n = static_cast<size_t>(std::min<std::uint64_t>(buffer.size(), size - done));
    util::pread_exact(input.fd, buffer.data(), n, input.range_offset + done, input.name);
    hash.update(buffer.data(), n);
    done += n;
  }
  const std::string actual = hash.finish_digest();
  if (actual != expect.digest) {
    blob_mismatch(expect, blob, "content digest " + actual + " differs from the descriptor's " + expect.digest);
  }
}

TarReadResult read_tar_whole(const TarInput& input, EntryVisitor& visitor, util::Progress& progress,
                             const TarReadOptions& options);

} // namespace

TarReadResult read_tar(const TarInput& input, EntryVisitor& visitor, util::Progress& progress,
                       const TarReadOptions& options)
{
  try {
    return read_tar_whole(input, visitor, progress, options);
  } catch (const util::Error&) {
    if (input.expect) {
      check_blob_bytes(input);
    }
    throw;
  }
}

namespace {

// The streaming loop of archive_read.3 over one input, an entry at a time.
class EntryLoop {
public:
  EntryLoop(const TarInput& input, TarStream& stream, EntryVisitor& visitor, util::Progress& progress, bool fast)
      : m_input(input), m_stream(stream), m_a(stream.reader()), m_in(stream.in()), m_visitor(visitor),
        m_progress(progress), m_fast(fast)
  {
    m_result.compression = m_in.compression();
  }

  // Reads the next entry into the visitor; false at the end of the archive.
  bool next()
  {
    skip_unread_data();
    archive_entry* e = nullptr;
    const la_int64_t header_offset = archive_filter_bytes(m_a, 0);
    m_in.begin_capture(static_cast<std::uint64_t>(header_offset));
    const int rc = archive_read_next_header(m_a, &e);
    const la_int64_t after_header = archive_filter_bytes(m_a, 0);
    // libarchive 3.6 takes some malformed extension headers without a word (a NUL inside a pax
    // path, an unparsable pax time, a volume header with a negative size): the raw header blocks
    // it read for this entry (or before the end of the archive) are checked here, after what
    // libarchive itself says.
    const std::string_view chain = m_in.end_capture(static_cast<std::uint64_t>(after_header));
    if (rc == ARCHIVE_EOF) {
      m_in.rethrow_read_error();
      check_chain(m_input, chain, nullptr, header_offset);
      m_result.ending = ending_of(m_input, m_in, m_result.entries,
                                 static_cast<std::uint64_t>(after_header - header_offset), header_offset);
      if (after_header - header_offset == static_cast<la_int64_t>(k_tar_block)) {
        m_lone_end_block_at = static_cast<std::uint64_t>(header_offset);
      }
      return false;
    }
    // Anything but OK and WARN ends the read: FAILED, FATAL, and RETRY (a header whose checksum
    // does not match, which libarchive would let us skip past).
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      m_in.rethrow_read_error();
      const char* p = e ? archive_entry_pathname(e) : nullptr;
      std::optional<std::string> entry_name;
      if (rc == ARCHIVE_FAILED && p) {
        entry_name = p;
      }
      throw util::Error(at_tar_offset(m_input.name, entry_name, header_offset), read_failure(m_in, m_a, "a header"));
    }
    take_entry(e, rc, chain, header_offset, static_cast<std::uint64_t>(after_header));
    return true;
  }

  // After the end of the archive: the rest read, the identities taken and checked.
  TarReadResult finish()
  {
    m_result.tar_bytes = static_cast<std::uint64_t>(archive_filter_bytes(m_a, 0)) - m_in.synthesized();
    m_stream.finish(m_result, m_lone_end_block_at);
    return m_result;
  }

  // The last entry read whole, for a message about what came after it.
  const std::optional<std::string>& last_entry() const { return m_last_entry; }

private:
  // An entry whose data the visitor did not read (the seek fast path) is skipped here rather than
  // inside archive_read_next_header, so that the offset of the next header is the next header's
  // and a truncation inside the skipped data or its padding is blamed on the entry it belongs to.
  void skip_unread_data()
  {
    if (m_result.entries > 0 && archive_read_data_skip(m_a) < ARCHIVE_WARN) {
      m_in.rethrow_read_error(m_entry.path);
      throw util::Error(at_tar_offset(m_input.name, m_entry.path, archive_read_header_position(m_a)),
                        read_failure(m_in, m_a, "this entry's data"));
    }
    if (m_result.entries > 0) {
      m_last_entry = m_entry.path;
    }
  }

  void take_entry(archive_entry* e, int rc, std::string_view chain, la_int64_t header_offset, std::uint64_t data_offset)
  {
    const char* path = archive_entry_pathname(e);
    const util::Location where = at_tar_offset(m_input.name, path ? std::string(path) : std::string(), header_offset);
    if (rc == ARCHIVE_WARN) {
      const std::string msg = archive_message(m_a);
      // A pax record libarchive could not parse is dropped with a warning; the entry would then
      // lose an attribute (a path, a size, an xattr) without anyone knowing. A strict reader refuses.
      if (msg.find("pax") != std::string::npos) {
        throw util::Error(where, msg);
      }
    }
    check_chain(m_input, chain, path, header_offset);
    if (rc == ARCHIVE_WARN) {
      m_visitor.on_warning(util::Error::format(where, archive_message(m_a)));
    }
    const std::optional<StoredData> stored = stored_data(chain);
    m_entry = source_entry_of(e, stored, where);
    // Where this entry's data ends, for a stream that stops right there (Go-compatible ending).
    if (stored && m_entry.type == EntryType::regular) {
      m_in.set_entry_data_end(data_offset + stored->size);
    } else {
      m_in.set_entry_data_end(data_offset);
    }
    std::optional<std::uint64_t> offset;
    // Only where the bytes stored are the entry's contents: not where libarchive makes up holes
    // (a GNU 'S' header with no sparse map, a pax GNU.sparse.size with none) from a shorter data;
    // and only data that is really there (else libarchive reads it and reports the truncation).
    if (m_fast && m_entry.type == EntryType::regular && !m_entry.sparse && stored && stored->size == m_entry.size &&
        data_offset + m_entry.size <= m_stream.available()) {
      offset = m_stream.start() + data_offset;
      m_result.contents_in_source = true;
    }
    TarEntryData data(m_a, m_in, m_input, m_entry, offset);
    m_visitor.on_entry(m_entry, data);
    ++m_result.entries;
    m_progress.add(0, 1); // the bytes are counted as they are read (ArchiveInput)
  }

  const TarInput& m_input;
  TarStream& m_stream;
  archive* m_a;
  ArchiveInput& m_in;
  EntryVisitor& m_visitor;
  util::Progress& m_progress;
  const bool m_fast;
  TarReadResult m_result;
  SourceEntry m_entry;
  std::optional<std::string> m_last_entry;
  std::optional<std::uint64_t> m_lone_end_block_at;
};

// A compressed stream whose tar reads as damaged: if the stream itself fails its check (a gzip
// CRC-32, an xz or bzip2 block check), that is the cause to report, naming the symptom the tar
// reader met first, not the symptom alone (a bit flipped in a deflate block decodes to garbage
// that a tar header shows before the CRC at the end of the member is reached).
void rethrow_compression_damage(ArchiveInput& in, const util::Error& symptom, const std::optional<std::string>& after)
{
  if (std::string(in.compression()) == "none" || in.read_failed() || !symptom.where()) {
    return;
  }
  try {
    in.drain();
  } catch (const util::IoError&) {
    throw; // the input could not be read: that, not the symptom, is the error
  } catch (const util::Error& damage) {
    if (!damage.where()) {
      return;
    }
    util::Location where = *damage.where();
    where.entry = symptom.where()->entry;
    std::string seen = "; the tar stream read from it is damaged from tar offset " +
                       std::to_string(symptom.where()->offset.value_or(0));
    if (!where.entry && after) {
      seen += ", after entry " + util::printable(*after);
    }
    throw util::Error(where, damage.message() + seen + " (" + symptom.message() + ")");
  } catch (...) {
    return; // the symptom is the error to report
  }
}

TarReadResult read_tar_whole(const TarInput& input, EntryVisitor& visitor, util::Progress& progress,
                             const TarReadOptions& options)
{
  const Utf8LocaleScope utf8;
  TarStream stream(input, options, progress);
  ArchiveInput& in = stream.in();
  const bool fast = options.offsets == SourceOffsets::offered && input.seekable &&
                    std::string(in.compression()) == "none";
  if (fast && !input.expect && !options.digests) {
    // Most entry data is skipped (taken later by offset), so the reads are for headers: 8 KiB at
    // a time copies little of the data around them. Reading the headers of the 1 GiB bench input
    // (44,419 entries): 0.26 s with 8 KiB reads, 0.28 s with 64 KiB, 0.29 s with 128 KiB; of a
    // tar of /usr/include, /usr/share/doc and python3.11 (32,358 entries, 14 KiB on average)
    // 0.168 s vs 0.186 s; only where every file is under a block (60,000 entries of 0-300 bytes)
    // are larger reads better, 0.225 s vs 0.220 s.
    in.set_read_size(8 << 10);
  }
  EntryLoop loop(input, stream, visitor, progress, fast);
  try {
    while (loop.next()) {
    }
  } catch (const util::Error& symptom) {
    rethrow_compression_damage(in, symptom, loop.last_entry());
    throw;
  }
  return loop.finish();
}

} // namespace

} // namespace reproimg::readers
