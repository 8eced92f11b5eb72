// A read-only mapping of a layer's file, for comparing and hashing contents where they lie (no copy
// into a buffer), and comparisons over it that turn a SIGBUS (the file shrank under us) into an
// error instead of a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace reproimg::diff {

class MappedFile {
public:
  // Maps the regular file open as fd (not owned; it must stay open); empty when it cannot be
  // mapped (not a regular file, empty, or mmap failed): the caller reads with pread instead.
  MappedFile(int fd, std::string name);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  bool empty() const { return m_data == nullptr; }
  // The bytes [offset, offset + length), or null when they are not all in the mapping.
  const unsigned char* at(std::uint64_t offset, std::uint64_t length) const;
  const std::string& name() const { return m_name; }

private:
  const unsigned char* m_data = nullptr;
  std::uint64_t m_size = 0;
  std::string m_name;
};

// Where a and b (n bytes each, in mappings) first differ; nullopt when they are equal. Throws
// util::Error naming the file when a page of a mapping is gone (the file was truncated meanwhile).
std::optional<std::uint64_t> mapped_mismatch(const unsigned char* a, const unsigned char* b, std::uint64_t n,
                                             const std::string& names);

// Calls feed(p, n) over [data, data + n) in chunks, with the same SIGBUS guard.
template <typename Feed>
void mapped_feed(const unsigned char* data, std::uint64_t n, const std::string& name, Feed&& feed);

// The guard itself: runs call() with a SIGBUS turned into util::Error(name, "...").
void run_guarded(void (*call)(void*), void* context, const std::string& name);

template <typename Feed>
void mapped_feed(const unsigned char* data, std::uint64_t n, const std::string& name, Feed&& feed)
{
  struct Context {
    const unsigned char* data;
    std::uint64_t n;
    Feed* feed;
  } context{data, n, &feed};
  run_guarded(
      [](void* p) {
        auto* c = static_cast<Context*>(p);
        constexpr std::uint64_t k_step = 1 << 20;
        for (std::uint64_t done = 0; done < c->n; done += k_step) {
          (*c->feed)(c->data + done, static_cast<size_t>(c->n - done < k_step ? c->n - done : k_step));
        }
      },
      &context, name);
}

} // namespace reproimg::diff
