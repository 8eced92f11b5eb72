// The libarchive streaming loop (archive_read.3), with every return code handled.
#include "normalize/tar_reader.hpp"

#include "normalize/archive_input.hpp"
#include "normalize/tar_headers.hpp"
#include "util/error.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace reproimg::normalize {

namespace {

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
        m_in.rethrow_read_error();
        throw util::Error(where(), m_in.message(m_a));
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
    return util::Location{m_input.name, m_entry.path, archive_read_header_position(m_a)};
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

TarReadResult read_tar(const TarInput& input, EntryVisitor& visitor, util::Progress& progress, bool allow_source_offsets)
{
  const Utf8LocaleScope utf8;
  ArchiveReader holder(new_restricted_reader(true));
  archive* a = holder.get();
  ArchiveInput in(input.fd, input.seekable, input.name);
  // A regular file is read by position (pread) from where its descriptor stands to its end: a
  // skip past entry data then costs no system call, and the descriptor's offset is left alone.
  std::uint64_t start = input.range_offset;
  std::uint64_t available = input.range_length ? *input.range_length : input.file_size;
  if (input.range_length) {
    in.set_range(start, available);
  } else if (input.seekable) {
    const off_t here = ::lseek(input.fd, 0, SEEK_CUR);
    if (here >= 0 && static_cast<std::uint64_t>(here) <= input.file_size) {
      start = static_cast<std::uint64_t>(here);
      available = input.file_size - start;
      in.set_range(start, available);
    }
  }
  in.open(a, true);
  const bool fast = allow_source_offsets && input.seekable && std::string(in.compression()) == "none";
  if (fast) {
    // Most entry data is skipped (taken later by offset), so the reads are for headers: 8 KiB at
    // a time copies little of the data around them. Reading the headers of the 1 GiB bench input
    // (44,419 entries): 0.26 s with 8 KiB reads, 0.28 s with 64 KiB, 0.29 s with 128 KiB; of a
    // tar of /usr/include, /usr/share/doc and python3.11 (32,358 entries, 14 KiB on average)
    // 0.168 s vs 0.186 s; only where every file is under a block (60,000 entries of 0-300 bytes)
    // are larger reads better, 0.225 s vs 0.220 s.
    in.set_read_size(8 << 10);
  }

  TarReadResult result;
  SourceEntry entry;
  result.compression = in.compression();
  for (;;) {
    archive_entry* e = nullptr;
    if (result.entries > 0) {
      // An entry whose data the visitor did not read (the seek fast path) is skipped here rather
      // than inside archive_read_next_header, so that the offset below is the next header's and a
      // truncation inside the skipped data or its padding is blamed on the entry it belongs to.
      if (archive_read_data_skip(a) < ARCHIVE_WARN) {
        in.rethrow_read_error();
        throw util::Error(util::Location{input.name, entry.path, archive_read_header_position(a)}, in.message(a));
      }
    }
    const la_int64_t header_offset = archive_filter_bytes(a, 0);
    in.begin_capture(static_cast<std::uint64_t>(header_offset));
    const int rc = archive_read_next_header(a, &e);
    const std::string_view chain = in.end_capture(static_cast<std::uint64_t>(archive_filter_bytes(a, 0)));
    // libarchive 3.6 takes some malformed extension headers without a word (a NUL inside a pax
    // path, an unparsable pax time, a volume header with a negative size): the raw header blocks
    // it read for this entry (or before the end of the archive) are checked here, after what
    // libarchive itself says.
    auto check_chain = [&](const char* entry_path) {
      if (const auto fault = check_header_chain(chain)) {
        throw util::Error(util::Location{input.name, entry_path ? std::optional<std::string>(entry_path) : std::nullopt,
                                         header_offset + static_cast<la_int64_t>(fault->offset)},
                          fault->message);
      }
    };
    if (rc == ARCHIVE_EOF) {
      check_chain(nullptr);
      break;
    }
    // Anything but OK and WARN ends the read: FAILED, FATAL, and RETRY (a header whose checksum
    // does not match, which libarchive would let us skip past).
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      in.rethrow_read_error();
      const char* p = e ? archive_entry_pathname(e) : nullptr;
      std::optional<std::string> entry_name;
      if (rc == ARCHIVE_FAILED && p) {
        entry_name = p;
      }
      throw util::Error(util::Location{input.name, entry_name, header_offset}, in.message(a));
    }

    entry = SourceEntry{};
    const char* path = archive_entry_pathname(e);
    entry.path = path ? path : "";
    if (rc == ARCHIVE_WARN) {
      const std::string msg = archive_message(a);
      // A pax record libarchive could not parse is dropped with a warning; the entry would then
      // lose an attribute (a path, a size, an xattr) without anyone knowing. A strict reader refuses.
      if (msg.find("pax") != std::string::npos) {
        throw util::Error(util::Location{input.name, entry.path, header_offset}, msg);
      }
    }
    check_chain(path);
    if (rc == ARCHIVE_WARN) {
      visitor.on_warning(util::Error::format(util::Location{input.name, entry.path, header_offset}, archive_message(a)));
    }
    entry.type = entry_type(e);
    entry.mode = static_cast<std::uint32_t>(archive_entry_perm(e)) & 07777;
    entry.uid = archive_entry_uid(e);
    entry.gid = archive_entry_gid(e);
    if (entry.uid < 0 || entry.gid < 0) {
      throw util::Error(util::Location{input.name, entry.path, header_offset}, "negative uid or gid");
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
      throw util::Error(util::Location{input.name, entry.path, header_offset}, "negative size");
    }
    entry.size = entry.type == EntryType::regular ? static_cast<std::uint64_t>(size) : 0;
    const std::optional<StoredData> stored = stored_data(chain);
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

    std::optional<std::uint64_t> offset;
    // Only where the bytes stored are the entry's contents: not where libarchive makes up holes
    // (a GNU 'S' header with no sparse map, a pax GNU.sparse.size with none) from a shorter data.
    if (fast && entry.type == EntryType::regular && !entry.sparse && stored && stored->size == entry.size) {
      const auto data_offset = static_cast<std::uint64_t>(archive_filter_bytes(a, 0));
      // Only data that is really there is referenced; otherwise libarchive reads it and
      // reports the truncation itself.
      if (data_offset + entry.size <= available) {
        offset = start + data_offset;
        result.contents_in_source = true;
      }
    }
    TarEntryData data(a, in, input, entry, offset);
    visitor.on_entry(entry, data);
    ++result.entries;
    progress.add(entry.size, 1);
  }
  result.raw_bytes = in.raw_bytes();
  result.tar_bytes = static_cast<std::uint64_t>(archive_filter_bytes(a, 0));
  return result;
}

} // namespace reproimg::normalize
