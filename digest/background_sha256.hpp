// SHA-256 on a thread of its own, so that whoever produces the bytes goes on producing while the
// previous ones are hashed: two cores at work on one stream instead of one.
#pragma once

#include "digest/sha256.hpp"
#include "util/file.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace reproimg::digest {

// A sink like HashingSink: forwards what it is given to next (null: nowhere) on the caller's
// thread, and hashes it on its own. The bytes wait in a few fixed buffers (2 MiB in all): write()
// copies into them; a producer that can fill memory itself (pread) fills them in place through
// lend()/write_lent() and saves that copy. The hashing thread starts when a first buffer is
// handed over: a stream that fits in one (a small layer) is hashed by digest() on the caller's thread.
class BackgroundHashingSink : public util::ByteSink {
public:
  explicit BackgroundHashingSink(util::ByteSink* next = nullptr);
  ~BackgroundHashingSink() override;
  BackgroundHashingSink(const BackgroundHashingSink&) = delete;
  BackgroundHashingSink& operator=(const BackgroundHashingSink&) = delete;

  void write(const void* data, size_t size) override;
  void finish() override;
  // Room for at least min(64 KiB, a buffer) bytes.
  std::span<unsigned char> lend() override;
  void write_lent(size_t size) override;

  // Waits for the hashing to catch up; "sha256:<hex>". Call once, after the last write.
  std::string digest();
  std::uint64_t bytes() const { return m_bytes; }

private:
  struct Buffer {
    std::vector<unsigned char> data;
    size_t used = 0;
  };

  // The buffer being filled (waiting for a free one if none), and handing it to the hasher.
  Buffer& current();
  void submit();
  void run();

  util::ByteSink* m_next;
  std::uint64_t m_bytes = 0;
  std::vector<Buffer> m_buffers;
  int m_current = -1; // index of the buffer being filled, -1 if none

  std::mutex m_mutex;
  std::condition_variable m_to_hasher;
  std::condition_variable m_to_producer;
  std::deque<int> m_full; // in stream order
  std::deque<int> m_free;
  bool m_closing = false;
  Sha256 m_hash;      // touched only by the hashing thread while it runs
  std::thread m_thread;
};

} // namespace reproimg::digest
