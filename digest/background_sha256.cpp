// SHA-256 on a thread of its own: a bounded queue of buffers between the producer and the hasher.
#include "digest/background_sha256.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace reproimg::digest {

namespace {

// 8 x 256 KiB: the bytes a buffer holds stay in the shared cache between the two cores, and the
// producer is rarely held up by a hasher that is briefly descheduled.
constexpr size_t k_buffer_count = 8;
constexpr size_t k_buffer_size = 256 << 10;
// lend() never offers less than this: a pread into a sliver of a buffer costs a system call for
// little; the buffer is handed over partly full instead.
constexpr size_t k_min_loan = 64 << 10;

} // namespace

BackgroundHashingSink::BackgroundHashingSink(util::ByteSink* next) : m_next(next), m_buffers(k_buffer_count)
{
  for (size_t i = 0; i < m_buffers.size(); ++i) {
    m_free.push_back(static_cast<int>(i));
  }
}

BackgroundHashingSink::~BackgroundHashingSink()
{
  if (m_thread.joinable()) {
    {
      const std::lock_guard<std::mutex> lock(m_mutex);
      m_closing = true;
      m_full.clear(); // abandoned (an exception is on its way): not worth hashing
    }
    m_to_hasher.notify_one();
    m_thread.join();
  }
}

BackgroundHashingSink::Buffer& BackgroundHashingSink::current()
{
  if (m_current < 0) {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_to_producer.wait(lock, [&] { return !m_free.empty(); });
    m_current = m_free.front();
    m_free.pop_front();
  }
  Buffer& b = m_buffers[static_cast<size_t>(m_current)];
  if (b.data.empty()) {
    b.data.resize(k_buffer_size);
  }
  return b;
}

void BackgroundHashingSink::submit()
{
  if (m_current < 0 || m_buffers[static_cast<size_t>(m_current)].used == 0) {
    return;
  }
  if (!m_thread.joinable()) {
    m_thread = std::thread([this] { run(); });
  }
  {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_full.push_back(m_current);
  }
  m_current = -1;
  m_to_hasher.notify_one();
}

void BackgroundHashingSink::run()
{
  std::unique_lock<std::mutex> lock(m_mutex);
  for (;;) {
    m_to_hasher.wait(lock, [&] { return m_closing || !m_full.empty(); });
    if (m_full.empty()) {
      return; // closing, and nothing left
    }
    const int index = m_full.front();
    m_full.pop_front();
    lock.unlock();
    Buffer& b = m_buffers[static_cast<size_t>(index)];
    m_hash.update(b.data.data(), b.used);
    b.used = 0;
    lock.lock();
    m_free.push_back(index);
    m_to_producer.notify_one();
  }
}

void BackgroundHashingSink::write(const void* data, size_t size)
{
  if (m_next) {
    m_next->write(data, size);
  }
  m_bytes += size;
  const auto* p = static_cast<const unsigned char*>(data);
  while (size > 0) {
    Buffer& b = current();
    const size_t n = std::min(size, b.data.size() - b.used);
    std::memcpy(b.data.data() + b.used, p, n);
    b.used += n;
    p += n;
    size -= n;
    if (b.used == b.data.size()) {
      submit();
    }
  }
}

std::span<unsigned char> BackgroundHashingSink::lend()
{
  if (m_current >= 0 && m_buffers[static_cast<size_t>(m_current)].data.size() -
                                m_buffers[static_cast<size_t>(m_current)].used < k_min_loan) {
    submit();
  }
  Buffer& b = current();
  return {b.data.data() + b.used, b.data.size() - b.used};
}

void BackgroundHashingSink::write_lent(size_t size)
{
  if (size == 0) {
    return;
  }
  Buffer& b = m_buffers.at(static_cast<size_t>(m_current));
  if (size > b.data.size() - b.used) {
    throw std::logic_error("write_lent() beyond the room lent");
  }
  if (m_next) {
    m_next->write(b.data.data() + b.used, size);
  }
  b.used += size;
  m_bytes += size;
  if (b.used == b.data.size()) {
    submit();
  }
}

void BackgroundHashingSink::finish()
{
  if (m_next) {
    m_next->finish();
  }
}

std::string BackgroundHashingSink::digest()
{
  if (!m_thread.joinable()) {
    // Never a full buffer: hashed here rather than on a thread started for that alone.
    if (m_current >= 0) {
      Buffer& b = m_buffers[static_cast<size_t>(m_current)];
      m_hash.update(b.data.data(), b.used);
      b.used = 0;
    }
    return m_hash.finish_digest();
  }
  submit();
  {
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_closing = true;
  }
  m_to_hasher.notify_one();
  m_thread.join(); // the hasher drains the queue before it sees m_closing
  return m_hash.finish_digest();
}

} // namespace reproimg::digest
