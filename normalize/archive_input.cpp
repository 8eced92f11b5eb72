// libarchive client callbacks with magic-number compression detection.
#include "normalize/archive_input.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <archive.h>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

namespace reproimg::normalize {

namespace {

constexpr size_t k_read_buffer = 1 << 20;

struct Magic {
  const char* name;
  int code;
};

Magic sniff(const unsigned char* p, size_t n)
{
  auto starts = [&](std::initializer_list<unsigned char> m) {
    if (n < m.size()) {
      return false;
    }
    size_t i = 0;
    for (unsigned char c : m) {
      if (p[i++] != c) {
        return false;
      }
    }
    return true;
  };
  if (starts({0x1f, 0x8b})) return {"gzip", ARCHIVE_FILTER_GZIP};
  if (starts({'B', 'Z', 'h'})) return {"bzip2", ARCHIVE_FILTER_BZIP2};
  if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) return {"xz", ARCHIVE_FILTER_XZ};
  if (starts({0x28, 0xb5, 0x2f, 0xfd})) return {"zstd", ARCHIVE_FILTER_ZSTD};
  // A zstd skippable frame (magic 0x184D2A5?, then a 32-bit little-endian length), as some
  // writers put first: zstd only if a real frame follows it within the first block.
  if (n >= 8 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18) {
    const std::uint64_t len = p[4] | (p[5] << 8) | (p[6] << 16) | (std::uint64_t{p[7]} << 24);
    const std::uint64_t next = 8 + len;
    if (next + 4 <= n && p[next] == 0x28 && p[next + 1] == 0xb5 && p[next + 2] == 0x2f && p[next + 3] == 0xfd) {
      return {"zstd", ARCHIVE_FILTER_ZSTD};
    }
    return {"a zstd skippable frame with no frame after it", -1};
  }
  if (starts({0x1f, 0x9d})) return {"compress (.Z)", -1};
  if (starts({0x04, 0x22, 0x4d, 0x18})) return {"lz4", -1};
  if (starts({'L', 'Z', 'I', 'P'})) return {"lzip", -1};
  return {"none", ARCHIVE_FILTER_NONE};
}

} // namespace

namespace {
locale_t utf8_locale()
{
  static const locale_t loc = [] {
    locale_t l = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
    return l ? l : ::newlocale(LC_CTYPE_MASK, "C.utf8", nullptr);
  }();
  return loc;
}
} // namespace

Utf8LocaleScope::Utf8LocaleScope()
{
  if (const locale_t loc = utf8_locale()) {
    m_previous = ::uselocale(loc);
  }
}

Utf8LocaleScope::~Utf8LocaleScope()
{
  if (m_previous) {
    ::uselocale(static_cast<locale_t>(m_previous));
  }
}

std::string archive_message(archive* a)
{
  const char* s = archive_error_string(a);
  std::string msg = (s && *s) ? s : "damaged or unreadable archive data";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '.')) {
    msg.pop_back();
  }
  return msg;
}

void ArchiveReadFree::operator()(archive* a) const
{
  archive_read_free(a);
}

archive* new_restricted_reader(bool tar_formats)
{
  archive* a = archive_read_new();
  if (!a) {
    throw util::Error("libarchive: out of memory");
  }
  if (tar_formats) {
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
  } else {
    archive_read_support_format_raw(a);
  }
  archive_read_support_format_empty(a);
  return a;
}

ArchiveInput::ArchiveInput(int fd, bool seekable, std::string name, digest::Sha256* hash)
    : m_fd(fd), m_seekable(seekable && !hash), m_name(std::move(name)), m_hash(hash), m_buffer(k_read_buffer), m_read_size(k_read_buffer)
{
}

ArchiveInput::~ArchiveInput()
{
  if (m_decoder) {
    archive_read_free(m_decoder);
  }
}

long ArchiveInput::raw_read(void* buf, size_t size)
{
  if (!m_ranged) {
    return ::read(m_fd, buf, size);
  }
  const std::uint64_t left = m_end - m_pos;
  const size_t n = left < size ? static_cast<size_t>(left) : size;
  if (n == 0) {
    return 0;
  }
  const ssize_t got = ::pread(m_fd, buf, n, static_cast<off_t>(m_pos));
  if (got > 0) {
    m_pos += static_cast<std::uint64_t>(got);
  }
  return got;
}

void ArchiveInput::set_range(std::uint64_t offset, std::uint64_t length)
{
  m_ranged = true;
  m_pos = offset;
  m_end = offset + length;
}

long ArchiveInput::read_more(const void** out)
{
  for (;;) {
    const ssize_t n = raw_read(m_buffer.data(), m_read_size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      m_errno = errno;
      return -1;
    }
    if (m_hash) {
      m_hash->update(m_buffer.data(), static_cast<size_t>(n));
    }
    m_raw_bytes += static_cast<std::uint64_t>(n);
    *out = m_buffer.data();
    return n;
  }
}

long ArchiveInput::read_first_or_more(const void** out)
{
  if (m_pending > 0) {
    const long n = static_cast<long>(m_pending);
    m_pending = 0;
    *out = m_buffer.data();
    return n;
  }
  return read_more(out);
}

long ArchiveInput::read_callback(archive*, void* self, const void** out)
{
  return static_cast<ArchiveInput*>(self)->read_first_or_more(out);
}

long ArchiveInput::tar_read_callback(archive*, void* self, const void** out)
{
  auto* in = static_cast<ArchiveInput*>(self);
  // The last block's memory is reused by the read below: what the capture needs of it is kept now.
  if (in->m_capturing) {
    in->keep_block_tail(in->m_block_start + in->m_block_size);
  }
  const void* block = nullptr;
  long n = 0;
  if (!in->m_decoder) {
    n = in->read_first_or_more(&block);
  } else {
    while (!in->m_decoder_eof) {
      size_t size = 0;
      la_int64_t offset = 0;
      const int rc = archive_read_data_block(in->m_decoder, &block, &size, &offset);
      if (rc == ARCHIVE_EOF) {
        in->m_decoder_eof = true;
        break;
      }
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
        in->m_decoder_error = archive_message(in->m_decoder);
        return -1;
      }
      if (size > 0) {
        n = static_cast<long>(size);
        break;
      }
    }
  }
  if (n <= 0) {
    in->m_block_size = 0;
    return n;
  }
  in->m_block = static_cast<const unsigned char*>(block);
  in->m_block_size = static_cast<size_t>(n);
  in->m_block_start = in->m_tar_pos;
  in->m_tar_pos += static_cast<std::uint64_t>(n);
  *out = block;
  return n;
}

std::int64_t ArchiveInput::tar_skip_callback(archive* a, void* self, std::int64_t request)
{
  auto* in = static_cast<ArchiveInput*>(self);
  const std::int64_t done = skip_callback(a, self, request);
  if (done > 0) {
    in->m_tar_pos += static_cast<std::uint64_t>(done);
    if (in->m_capturing) {
      in->m_capture_lost = true;
    }
  }
  return done;
}

void ArchiveInput::keep_block_tail(std::uint64_t upto)
{
  const std::uint64_t have_to = m_capture_from + m_captured.size();
  const std::uint64_t from = std::max(have_to, m_block_start);
  const std::uint64_t end = std::min<std::uint64_t>(upto, m_block_start + m_block_size);
  if (from >= end) {
    return;
  }
  if (from > have_to) {
    m_capture_lost = true; // bytes between were never seen here
    return;
  }
  m_captured.append(reinterpret_cast<const char*>(m_block) + (from - m_block_start), static_cast<size_t>(end - from));
}

void ArchiveInput::begin_capture(std::uint64_t position)
{
  m_capturing = true;
  m_capture_lost = false;
  m_capture_from = position;
  m_captured.clear();
}

std::string_view ArchiveInput::end_capture(std::uint64_t position)
{
  m_capturing = false;
  if (m_capture_lost || position < m_capture_from) {
    return {};
  }
  const auto length = static_cast<size_t>(position - m_capture_from);
  if (m_captured.empty() && m_capture_from >= m_block_start && position <= m_block_start + m_block_size) {
    return {reinterpret_cast<const char*>(m_block) + (m_capture_from - m_block_start), length};
  }
  keep_block_tail(position);
  if (m_capture_lost || m_captured.size() < length) {
    return {};
  }
  return {m_captured.data(), length};
}

std::string ArchiveInput::message(archive* a) const
{
  return m_decoder_error.empty() ? archive_message(a) : m_decoder_error;
}

std::int64_t ArchiveInput::skip_callback(archive*, void* self, std::int64_t request)
{
  auto* in = static_cast<ArchiveInput*>(self);
  if (!in->m_seekable || request <= 0 || in->m_pending > 0) {
    return 0; // libarchive reads and discards instead
  }
  if (in->m_ranged) {
    if (static_cast<std::uint64_t>(request) > in->m_end - in->m_pos) {
      return 0;
    }
    in->m_pos += static_cast<std::uint64_t>(request);
    in->m_raw_bytes += static_cast<std::uint64_t>(request);
    return request;
  }
  // lseek succeeds past the end of a file: a skip that would leave the file is refused, so that
  // libarchive reads, meets the end, and reports the truncation as it does on a pipe.
  const off_t here = ::lseek(in->m_fd, 0, SEEK_CUR);
  struct stat st {};
  if (here < 0 || ::fstat(in->m_fd, &st) != 0 || request > st.st_size - here) {
    return 0;
  }
  if (::lseek(in->m_fd, request, SEEK_CUR) < 0) {
    return 0;
  }
  in->m_raw_bytes += static_cast<std::uint64_t>(request);
  return request;
}

void ArchiveInput::open(archive* a, bool tar_formats)
{
  // The first block decides the filter; it is then handed to libarchive as its first read.
  // How much is read first must not depend on how the reads split (file or pipe): 4096 bytes, or
  // for a leading zstd skippable frame, the frame and the 4 bytes after it (up to the buffer).
  size_t have = 0;
  size_t want = 4096;
  while (have < want) {
    const ssize_t n = raw_read(m_buffer.data() + have, want - have);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      util::throw_errno("cannot read", m_name);
    }
    if (n == 0) {
      break;
    }
    have += static_cast<size_t>(n);
    const unsigned char* p = m_buffer.data();
    if (have >= 8 && want == 4096 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d && p[3] == 0x18) {
      const std::uint64_t len = p[4] | (p[5] << 8) | (p[6] << 16) | (std::uint64_t{p[7]} << 24);
      want = static_cast<size_t>(std::min<std::uint64_t>(std::max<std::uint64_t>(8 + len + 4, 4096), m_buffer.size()));
    }
  }
  if (m_hash) {
    m_hash->update(m_buffer.data(), have);
  }
  m_raw_bytes = have;
  m_pending = have;
  const Magic magic = sniff(m_buffer.data(), have);
  m_compression = magic.name;
  if (magic.code < 0) {
    throw util::Error(util::Location{m_name, std::nullopt, 0},
                      std::string("unsupported compression: ") + magic.name +
                          " (reproimg reads gzip, bzip2, xz, zstd and uncompressed tar)");
  }
  const bool compressed = magic.code != ARCHIVE_FILTER_NONE;
  auto open_failed = [&](const std::string& why) {
    rethrow_read_error();
    throw util::Error(util::Location{m_name, std::nullopt, std::nullopt},
                      std::string(tar_formats ? "not a tar archive we can read" : "cannot read the layer") +
                          (compressed ? std::string(" (") + m_compression + " data)" : "") + ": " + why);
  };
  // The reader of the file's bytes: a itself, or for a compressed tar the decoder under it.
  archive* file_reader = a;
  if (tar_formats && compressed) {
    m_decoder = new_restricted_reader(false);
    file_reader = m_decoder;
  }
  if (compressed && archive_read_append_filter(file_reader, magic.code) != ARCHIVE_OK) {
    throw util::Error(util::Location{m_name, std::nullopt, std::nullopt},
                      std::string("cannot set up ") + magic.name + " decompression: " + archive_message(file_reader));
  }
  if (file_reader != a || !tar_formats) {
    archive_read_set_read_callback(file_reader, &ArchiveInput::read_callback);
    archive_read_set_skip_callback(file_reader, &ArchiveInput::skip_callback);
    archive_read_set_callback_data(file_reader, this);
    if (archive_read_open1(file_reader) != ARCHIVE_OK) {
      open_failed(archive_message(file_reader));
    }
  }
  if (m_decoder) {
    archive_entry* e = nullptr;
    const int rc = archive_read_next_header(m_decoder, &e);
    if (rc == ARCHIVE_EOF) {
      m_decoder_eof = true;
    } else if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      open_failed(archive_message(m_decoder));
    }
  }
  if (tar_formats) {
    archive_read_set_read_callback(a, &ArchiveInput::tar_read_callback);
    if (!m_decoder) {
      archive_read_set_skip_callback(a, &ArchiveInput::tar_skip_callback);
    }
    archive_read_set_callback_data(a, this);
    if (archive_read_open1(a) != ARCHIVE_OK) {
      open_failed(message(a));
    }
  }
}

void ArchiveInput::drain()
{
  const void* ignored = nullptr;
  if (m_pending > 0) {
    m_pending = 0;
  }
  while (read_more(&ignored) > 0) {
  }
  rethrow_read_error();
}

void ArchiveInput::rethrow_read_error() const
{
  if (m_errno) {
    errno = m_errno;
    util::throw_errno("cannot read", m_name);
  }
}

} // namespace reproimg::normalize
