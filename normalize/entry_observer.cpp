// The observing visitor: the builder's reads teed into a hash, the rest read for the hash alone.
#include "normalize/entry_observer.hpp"

#include "digest/sha256.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <vector>

namespace reproimg::normalize {

namespace {

// Keeps the first `limit` bytes written through it (and passes every byte on).
class CapturingSink : public util::ByteSink {
public:
  CapturingSink(util::ByteSink* next, std::uint64_t limit) : m_next(next), m_limit(limit) {}
  void write(const void* data, size_t n) override
  {
    if (m_bytes.size() < m_limit) {
      const size_t keep = static_cast<size_t>(std::min<std::uint64_t>(n, m_limit - m_bytes.size()));
      m_bytes.append(static_cast<const char*>(data), keep);
    }
    if (m_next) m_next->write(data, n);
  }
  void finish() override
  {
    if (m_next) m_next->finish();
  }
  std::string& bytes() { return m_bytes; }

private:
  util::ByteSink* m_next;
  std::uint64_t m_limit;
  std::string m_bytes;
};

// The entry's data, with every byte the consumer reads also hashed (and its first bytes kept
// when the observer wants them).
class TeeData : public readers::EntryData {
public:
  TeeData(readers::EntryData& inner, std::uint64_t capture) : m_inner(inner), m_capture(capture) {}
  std::optional<std::uint64_t> source_offset() const override { return m_inner.source_offset(); }
  std::optional<std::string> disk_path() const override { return m_inner.disk_path(); }
  void read(util::ByteSink& sink, std::uint64_t max_fill) override
  {
    CapturingSink capture(&sink, m_capture);
    digest::HashingSink tee(&capture);
    m_inner.read(tee, max_fill);
    m_digest = tee.digest();
    m_bytes = std::move(capture.bytes());
    m_read = true;
  }
  bool was_read() const { return m_read; }
  const std::string& digest() const { return m_digest; }
  std::string& bytes() { return m_bytes; }

private:
  readers::EntryData& m_inner;
  std::uint64_t m_capture;
  bool m_read = false;
  std::string m_digest;
  std::string m_bytes;
};

std::string read_range(int fd, std::uint64_t offset, std::uint64_t size, const std::string& name)
{
  std::string out(static_cast<size_t>(size), '\0');
  if (size > 0) util::pread_exact(fd, out.data(), out.size(), offset, name);
  return out;
}

std::string hash_range(int fd, std::uint64_t offset, std::uint64_t size, const std::string& name)
{
  digest::Sha256 hash;
  thread_local std::vector<unsigned char> buf(1 << 20);
  for (std::uint64_t done = 0; done < size;) {
    const size_t n = static_cast<size_t>(std::min<std::uint64_t>(size - done, buf.size()));
    util::pread_exact(fd, buf.data(), n, offset + done, name);
    hash.update(buf.data(), n);
    done += n;
  }
  return hash.finish_digest();
}

} // namespace

// The first `want` bytes of an entry the builder did not read: from the input, the disk or the data.
std::string ObservingVisitor::leading_bytes(const readers::SourceEntry& seen, readers::EntryData& data,
                                            std::uint64_t want)
{
  const std::uint64_t n = std::min(want, seen.size);
  if (const auto off = data.source_offset(); off && m_fd >= 0) {
    return read_range(m_fd, *off, n, m_name);
  }
  if (const auto path = data.disk_path()) {
    util::Fd fd = util::open_read(*path);
    return read_range(fd.get(), 0, n, *path);
  }
  CapturingSink capture(nullptr, want);
  data.read(capture, m_max_fill);
  return std::move(capture.bytes());
}

void ObservingVisitor::on_entry(readers::SourceEntry& entry, readers::EntryData& data)
{
  const std::uint64_t want = entry.type == readers::EntryType::regular ? m_observer.content_wanted(entry) : 0;
  TeeData tee(data, want);
  const readers::SourceEntry seen = entry; // the builder may take what it needs from entry
  m_next.on_entry(entry, tee);
  if (want > 0) {
    m_observer.on_content(seen, tee.was_read() ? tee.bytes() : leading_bytes(seen, data, want));
  }
  if (seen.type != readers::EntryType::regular || !m_observer.wants_contents()) {
    m_observer.on_entry(seen, "");
    return;
  }
  std::string digest;
  if (tee.was_read()) {
    digest = tee.digest();
  } else if (const auto off = data.source_offset(); off && m_fd >= 0) {
    digest = hash_range(m_fd, *off, seen.size, m_name);
  } else if (const auto path = data.disk_path()) {
    util::Fd fd = util::open_read(*path);
    digest = hash_range(fd.get(), 0, seen.size, *path);
  } else {
    digest::HashingSink hash;
    data.read(hash, m_max_fill);
    digest = hash.digest();
  }
  m_observer.on_entry(seen, digest);
}

} // namespace reproimg::normalize
