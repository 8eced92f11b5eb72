// The observing visitor: the builder's reads teed into a hash, the rest read for the hash alone.
#include "normalize/entry_observer.hpp"

#include "digest/sha256.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <vector>

namespace reproimg::normalize {

namespace {

// The entry's data, with every byte the consumer reads also hashed.
class TeeData : public readers::EntryData {
public:
  explicit TeeData(readers::EntryData& inner) : m_inner(inner) {}
  std::optional<std::uint64_t> source_offset() const override { return m_inner.source_offset(); }
  std::optional<std::string> disk_path() const override { return m_inner.disk_path(); }
  void read(util::ByteSink& sink, std::uint64_t max_fill) override
  {
    digest::HashingSink tee(&sink);
    m_inner.read(tee, max_fill);
    m_digest = tee.digest();
    m_read = true;
  }
  bool was_read() const { return m_read; }
  const std::string& digest() const { return m_digest; }

private:
  readers::EntryData& m_inner;
  bool m_read = false;
  std::string m_digest;
};

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

void ObservingVisitor::on_entry(readers::SourceEntry& entry, readers::EntryData& data)
{
  TeeData tee(data);
  const readers::SourceEntry seen = entry; // the builder may take what it needs from entry
  m_next.on_entry(entry, tee);
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
