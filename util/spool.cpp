// Bounded-memory byte store: RAM first, then an unlinked temporary file.
#include "util/spool.hpp"

#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace reproimg::util {

namespace {
constexpr size_t k_io_buffer = 1 << 20;
}

std::string temp_directory()
{
  const char* dir = std::getenv("TMPDIR");
  return (dir && *dir) ? dir : "/tmp";
}

Spool::Spool(size_t memory_limit) : m_memory_limit(memory_limit) {}

std::uint64_t Spool::begin()
{
  return m_size;
}

void Spool::append(const void* data, size_t size)
{
  const auto* p = static_cast<const unsigned char*>(data);
  if (!m_file.valid() && m_memory.size() + size <= m_memory_limit) {
    m_memory.insert(m_memory.end(), p, p + size);
    m_size += size;
    return;
  }
  spill(p, size);
}

void Spool::append_zeros(std::uint64_t count)
{
  static const unsigned char k_zeros[65536] = {};
  while (count > 0) {
    const size_t n = count < sizeof k_zeros ? static_cast<size_t>(count) : sizeof k_zeros;
    append(k_zeros, n);
    count -= n;
  }
}

void Spool::spill(const void* data, size_t size)
{
  if (!m_file.valid()) {
    m_file = anonymous_temp_file("temporary spool file");
    m_write_buffer.reserve(k_io_buffer);
  }
  const auto* p = static_cast<const unsigned char*>(data);
  m_size += size;
  if (m_write_buffer.size() + size > k_io_buffer) {
    flush_write_buffer();
  }
  if (size >= k_io_buffer) {
    write_all(m_file.get(), p, size, "temporary spool file");
    m_file_flushed += size;
  } else {
    m_write_buffer.insert(m_write_buffer.end(), p, p + size);
  }
}

void Spool::flush_write_buffer()
{
  if (!m_write_buffer.empty()) {
    write_all(m_file.get(), m_write_buffer.data(), m_write_buffer.size(), "temporary spool file");
    m_file_flushed += m_write_buffer.size();
    m_write_buffer.clear();
  }
}

void Spool::copy_to(std::uint64_t offset, std::uint64_t size, ByteSink& sink)
{
  const std::uint64_t in_memory = m_memory.size();
  if (offset < in_memory) {
    const std::uint64_t n = std::min<std::uint64_t>(size, in_memory - offset);
    sink.write(m_memory.data() + offset, static_cast<size_t>(n));
    offset += n;
    size -= n;
  }
  if (size == 0) {
    return;
  }
  std::uint64_t file_offset = offset - in_memory;
  // Bytes still in the write buffer are served from it.
  if (file_offset + size > m_file_flushed) {
    flush_write_buffer();
  }
  if (m_read_buffer.empty()) {
    m_read_buffer.resize(k_io_buffer);
  }
  while (size > 0) {
    const size_t n = size < k_io_buffer ? static_cast<size_t>(size) : k_io_buffer;
    pread_exact(m_file.get(), m_read_buffer.data(), n, file_offset, "temporary spool file");
    sink.write(m_read_buffer.data(), n);
    file_offset += n;
    size -= n;
  }
}

Fd anonymous_temp_file(const std::string& what)
{
  const std::string dir = temp_directory();
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    // O_TMPFILE is not supported everywhere: fall back to mkstemp + unlink.
    std::string templ = dir + "/reproimg-tmp.XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    const InterruptDeferral defer; // no interrupt between the creation and the unlink
    fd = ::mkostemp(buf.data(), O_CLOEXEC);
    if (fd < 0) {
      throw_errno("cannot create a " + what + " in", dir);
    }
    ::unlink(buf.data());
  }
  return Fd(fd);
}

Fd copy_stdin_to_temp()
{
  Fd out = anonymous_temp_file("temporary copy of stdin");
  std::vector<unsigned char> buf(1 << 20);
  for (;;) {
    const size_t n = read_full(0, buf.data(), buf.size(), "<stdin>");
    if (n == 0) {
      break;
    }
    write_all(out.get(), buf.data(), n, "temporary copy of stdin");
  }
  if (::lseek(out.get(), 0, SEEK_SET) != 0) {
    throw_errno("cannot rewind", "temporary copy of stdin");
  }
  return out;
}

} // namespace reproimg::util
