// libarchive client callbacks with magic-number compression detection.
#include "readers/archive_input.hpp"

#include "util/error.hpp"
#include "util/syscalls.hpp"

#include <algorithm>
#include <archive.h>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

namespace reproimg::readers {

namespace {

constexpr size_t k_read_buffer = 1 << 20;

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

archive* new_restricted_reader()
{
  archive* a = archive_read_new();
  if (!a) {
    throw util::Error("libarchive: out of memory");
  }
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  archive_read_support_format_empty(a);
  return a;
}

namespace {
constexpr size_t k_decoded_buffer = 256 << 10;
const unsigned char k_zero_padding[512] = {};
} // namespace

ArchiveInput::ArchiveInput(int fd, bool seekable, std::string name, Tees tees)
    : m_fd(fd), m_seekable(seekable && !tees.stored && !tees.tar), m_name(std::move(name)), m_tees(tees),
      m_buffer(k_read_buffer), m_read_size(k_read_buffer)
{
}

ArchiveInput::~ArchiveInput() = default;

long ArchiveInput::raw_read(void* buf, size_t size)
{
  if (!m_ranged && m_growing) {
    return growing_read(buf, size);
  }
  if (!m_ranged) {
    return util::sys::read(m_fd, buf, size);
  }
  const std::uint64_t left = m_end - m_pos;
  const size_t n = left < size ? static_cast<size_t>(left) : size;
  if (n == 0) {
    return 0;
  }
  const ssize_t got = util::sys::pread(m_fd, buf, n, static_cast<off_t>(m_pos));
  if (got > 0) {
    m_pos += static_cast<std::uint64_t>(got);
  } else if (got == 0) {
    errno = EIO; // the file is shorter than the member it was indexed with: it changed under us
    return -1;
  }
  return got;
}

long ArchiveInput::growing_read(void* buf, size_t size)
{
  // Woken for a good slice at a time (or the end), not for every packet the writer receives.
  constexpr std::uint64_t k_wake_bytes = 256 << 10;
  for (;;) {
    const ssize_t n = util::sys::read(m_fd, buf, size);
    if (n > 0) {
      m_file_pos += static_cast<std::uint64_t>(n);
    }
    if (n != 0) {
      return n;
    }
    if (!m_growing->wait_beyond(m_file_pos, k_wake_bytes)) {
      return 0; // whole and checked by the writer
    }
  }
}

void ArchiveInput::set_range(std::uint64_t offset, std::uint64_t length)
{
  m_ranged = true;
  m_pos = offset;
  m_end = offset + length;
}

long ArchiveInput::read_more(const void** out)
{
  if (m_raw_ended) {
    return 0;
  }
  for (;;) {
    const ssize_t n = raw_read(m_buffer.data(), m_read_size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      m_errno = errno;
      return -1;
    }
    if (n == 0) {
      m_raw_ended = true;
    } else if (m_tees.stored) {
      m_tees.stored->write(m_buffer.data(), static_cast<size_t>(n));
    }
    m_raw_bytes += static_cast<std::uint64_t>(n);
    if (m_progress) {
      m_progress->add(static_cast<std::uint64_t>(n));
    }
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

size_t ArchiveInput::pull_compressed(const unsigned char** chunk)
{
  const void* p = nullptr;
  const long n = read_first_or_more(&p);
  if (n < 0) {
    rethrow_read_error();
  }
  *chunk = static_cast<const unsigned char*>(p);
  return static_cast<size_t>(n);
}

long ArchiveInput::next_tar_block(const void** out)
{
  // The last block's memory is reused by the read below: what the capture needs of it is kept now.
  if (m_capturing) {
    keep_block_tail(m_block_start + m_block_size);
  }
  const void* block = nullptr;
  long n = 0;
  if (!m_tar_ended) {
    if (!m_decoder) {
      n = read_first_or_more(&block);
      if (n < 0) {
        return n;
      }
    } else {
      n = static_cast<long>(m_decoder->read(m_decoded.data(), m_decoded.size()));
      block = m_decoded.data();
    }
    if (n > 0 && m_tees.tar) {
      m_tees.tar->write(block, static_cast<size_t>(n));
    }
    m_tar_ended = n == 0;
  }
  if (n == 0 && m_entry_data_end && m_tar_pos >= *m_entry_data_end) {
    // The Go-compatible ending: the last entry's data is whole, its padding is not.
    const std::uint64_t padded = (*m_entry_data_end + sizeof k_zero_padding - 1) / sizeof k_zero_padding * sizeof k_zero_padding;
    if (m_tar_pos < padded) {
      n = static_cast<long>(padded - m_tar_pos);
      block = k_zero_padding;
      m_synthesized += static_cast<std::uint64_t>(n);
    }
  }
  if (n <= 0) {
    m_block_size = 0;
    return n;
  }
  m_block = static_cast<const unsigned char*>(block);
  m_block_size = static_cast<size_t>(n);
  m_block_start = m_tar_pos;
  m_tar_pos += static_cast<std::uint64_t>(n);
  *out = block;
  return n;
}

long ArchiveInput::tar_read_callback(archive*, void* self, const void** out)
{
  auto* in = static_cast<ArchiveInput*>(self);
  try {
    return in->next_tar_block(out);
  } catch (...) {
    // No exception may cross libarchive's C frames: kept, and rethrown by rethrow_read_error().
    in->m_error = std::current_exception();
    return -1;
  }
}

std::int64_t ArchiveInput::tar_skip_callback(archive*, void* self, std::int64_t request)
{
  auto* in = static_cast<ArchiveInput*>(self);
  const std::int64_t done = in->skip_raw(request);
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
  return archive_message(a);
}

std::int64_t ArchiveInput::skip_raw(std::int64_t request)
{
  if (!m_seekable || request <= 0 || m_pending > 0) {
    return 0; // libarchive reads and discards instead
  }
  if (m_ranged) {
    if (static_cast<std::uint64_t>(request) > m_end - m_pos) {
      return 0;
    }
    m_pos += static_cast<std::uint64_t>(request);
    m_raw_bytes += static_cast<std::uint64_t>(request);
    if (m_progress) {
      m_progress->add(static_cast<std::uint64_t>(request));
    }
    return request;
  }
  // lseek succeeds past the end of a file: a skip that would leave the file is refused, so that
  // libarchive reads, meets the end, and reports the truncation as it does on a pipe.
  const off_t here = ::lseek(m_fd, 0, SEEK_CUR);
  struct stat st {};
  if (here < 0 || ::fstat(m_fd, &st) != 0 || request > st.st_size - here) {
    return 0;
  }
  if (::lseek(m_fd, request, SEEK_CUR) < 0) {
    return 0;
  }
  m_raw_bytes += static_cast<std::uint64_t>(request);
  if (m_progress) {
    m_progress->add(static_cast<std::uint64_t>(request));
  }
  return request;
}

void ArchiveInput::open(archive* a)
{
  sniff_compression();
  attach(a);
}

void ArchiveInput::sniff_compression()
{
  // The first block decides the decoder; it is then handed over as the first read.
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
  if (m_tees.stored && have > 0) {
    m_tees.stored->write(m_buffer.data(), have);
  }
  m_raw_bytes = have;
  if (m_progress) {
    m_progress->add(have);
  }
  m_pending = have;
  m_raw_ended = have < want;
  const CodecMagic magic = sniff_codec(m_buffer.data(), have, m_raw_ended);
  if (!magic.supported) {
    throw util::Error(util::Location{m_name, std::nullopt, 0},
                      std::string("unsupported compression: ") + magic.name +
                          " (reproimg reads gzip, bzip2, xz, zstd and uncompressed tar)");
  }
  m_codec = magic.codec;
  if (m_codec != Codec::none) {
    m_decoder = make_decoder(m_codec, [this](const unsigned char** chunk) { return pull_compressed(chunk); }, m_name);
    m_decoded.resize(k_decoded_buffer);
  }
}

void ArchiveInput::attach(archive* a)
{
  archive_read_set_read_callback(a, &ArchiveInput::tar_read_callback);
  if (!m_decoder) {
    archive_read_set_skip_callback(a, &ArchiveInput::tar_skip_callback);
  }
  archive_read_set_callback_data(a, this);
  if (archive_read_open1(a) != ARCHIVE_OK) {
    rethrow_read_error();
    throw util::Error(util::Location{m_name, std::nullopt, std::nullopt},
                      std::string("not a tar archive we can read") +
                          (m_decoder ? std::string(" (") + compression() + " data)" : "") + ": " + archive_message(a));
  }
}

void ArchiveInput::drain(bool whole)
{
  if (m_decoder) {
    // The rest of the tar stream (blocking padding after the end-of-archive blocks), and with it
    // the end of the compressed stream, which the decoder checks.
    while (!m_tar_ended) {
      const size_t n = m_decoder->read(m_decoded.data(), m_decoded.size());
      if (n == 0) {
        m_tar_ended = true;
        break;
      }
      if (m_tees.tar) {
        m_tees.tar->write(m_decoded.data(), n);
      }
      m_tar_pos += n;
    }
    return;
  }
  if (!whole && !m_tees.stored && !m_tees.tar) {
    return;
  }
  // Uncompressed: whatever follows the end-of-archive blocks is still part of the blob.
  for (;;) {
    const void* block = nullptr;
    const long n = read_first_or_more(&block);
    if (n < 0) {
      rethrow_read_error();
    }
    if (n <= 0) {
      break;
    }
    if (m_tees.tar) {
      m_tees.tar->write(block, static_cast<size_t>(n));
    }
    m_tar_pos += static_cast<std::uint64_t>(n);
  }
  m_tar_ended = true;
}

void ArchiveInput::rethrow_read_error(const std::optional<std::string>& entry) const
{
  try {
    if (m_error) {
      std::rethrow_exception(m_error);
    }
    if (m_errno) {
      errno = m_errno;
      util::throw_errno("cannot read", m_name);
    }
  } catch (const util::Error& e) {
    if (entry) {
      e.rethrow_in_entry(*entry); // an IoError stays one: a caller must not take it for bad content
    }
    throw;
  }
}

} // namespace reproimg::readers
