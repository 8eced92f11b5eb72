// Parallel deterministic gzip (the construction pigz uses, with the block boundaries fixed by byte
// offsets): raw deflate per block, sync-flushed to a byte boundary, CRC-32s combined in order.
#include "normalize/parallel_gzip.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>
#include <zlib.h>

namespace reproimg::normalize {

namespace {

// 1f 8b, CM 8, FLG 0, MTIME 0, XFL 0, OS 255 ("unknown": the same on every build host).
constexpr unsigned char k_header[10] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff};

// How a block's deflate stream ends: an empty stored block (byte-aligned, more follows) or the
// final block.
enum class BlockEnd { sync, last };

struct Block {
  std::vector<unsigned char> input;
  std::vector<unsigned char> dictionary; // the previous block's last 32 KiB; empty for the first
  BlockEnd end = BlockEnd::sync;
  std::vector<unsigned char> output;
  uLong crc = 0;
  bool done = false; // guarded by the sink's mutex
  std::exception_ptr error;
};

// One raw deflate stream (windowBits -15), reset for every block.
class Deflater {
public:
  Deflater()
  {
    std::memset(&m_z, 0, sizeof m_z);
    if (deflateInit2(&m_z, k_gzip_level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw util::Error("zlib: cannot initialise the gzip compressor");
    }
  }
  ~Deflater() { deflateEnd(&m_z); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  void compress(Block& b)
  {
    if (deflateReset(&m_z) != Z_OK) {
      throw util::Error("zlib: cannot reset the gzip compressor");
    }
    if (!b.dictionary.empty() &&
        deflateSetDictionary(&m_z, b.dictionary.data(), static_cast<uInt>(b.dictionary.size())) != Z_OK) {
      throw util::Error("zlib: cannot set the dictionary");
    }
    b.output.resize(deflateBound(&m_z, b.input.size()) + 64);
    m_z.next_in = b.input.data();
    m_z.avail_in = static_cast<uInt>(b.input.size());
    m_z.next_out = b.output.data();
    m_z.avail_out = static_cast<uInt>(b.output.size());
    // As the spec's reference: all input with Z_NO_FLUSH, then the ending flush on its own.
    run(b, Z_NO_FLUSH);
    run(b, b.end == BlockEnd::last ? Z_FINISH : Z_SYNC_FLUSH);
    b.output.resize(m_z.total_out);
    b.crc = crc32(crc32(0, nullptr, 0), b.input.data(), static_cast<uInt>(b.input.size()));
  }

private:
  void run(Block& b, int flush)
  {
    for (;;) {
      if (m_z.avail_out == 0) { // not expected (deflateBound), but never wrong
        const size_t used = m_z.total_out;
        b.output.resize(b.output.size() * 2);
        m_z.next_out = b.output.data() + used;
        m_z.avail_out = static_cast<uInt>(b.output.size() - used);
      }
      const int rc = deflate(&m_z, flush);
      if (rc == Z_STREAM_ERROR) {
        throw util::Error("zlib: compression failed");
      }
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (m_z.avail_in == 0 && m_z.avail_out != 0)) {
        return;
      }
    }
  }

  z_stream m_z;
};

class ParallelGzipSink : public util::ByteSink {
public:
  ParallelGzipSink(util::ByteSink& next, unsigned threads)
      : m_next(next), m_max_in_flight(4 * static_cast<size_t>(std::max(threads, 1u)) + 2)
  {
    m_filling = new_block();
    if (threads <= 1) {
      m_inline.emplace();
      return;
    }
    m_workers.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) {
      m_workers.emplace_back([this] { work(); });
    }
  }
  ~ParallelGzipSink() override
  {
    {
      const std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_work_cv.notify_all();
    for (auto& t : m_workers) {
      t.join();
    }
  }
  ParallelGzipSink(const ParallelGzipSink&) = delete;
  ParallelGzipSink& operator=(const ParallelGzipSink&) = delete;

  void write(const void* data, size_t size) override
  {
    const auto* p = static_cast<const unsigned char*>(data);
    while (size > 0) {
      if (m_filling->input.size() == k_gzip_block_size) {
        submit(BlockEnd::sync); // a full block with more bytes after it is not the last
      }
      const size_t n = std::min(size, k_gzip_block_size - m_filling->input.size());
      m_filling->input.insert(m_filling->input.end(), p, p + n);
      p += n;
      size -= n;
    }
  }
  void finish() override
  {
    submit(BlockEnd::last);
    drain(0);
    unsigned char trailer[8];
    for (int i = 0; i < 4; ++i) {
      trailer[i] = static_cast<unsigned char>((m_crc >> (8 * i)) & 0xff);
      trailer[4 + i] = static_cast<unsigned char>((m_size >> (8 * i)) & 0xff);
    }
    m_next.write(trailer, sizeof trailer);
    m_next.finish();
  }

private:
  static std::shared_ptr<Block> new_block()
  {
    auto b = std::make_shared<Block>();
    b->input.reserve(k_gzip_block_size);
    return b;
  }

  // Hands the filling block to the workers (or compresses it here), primes the next one.
  void submit(BlockEnd end)
  {
    std::shared_ptr<Block> block = std::move(m_filling);
    block->end = end;
    m_filling = new_block();
    if (end == BlockEnd::sync) {
      const size_t n = std::min(block->input.size(), k_gzip_dictionary_size);
      m_filling->dictionary.assign(block->input.end() - static_cast<std::ptrdiff_t>(n), block->input.end());
    }
    if (m_inline) {
      m_inline->compress(*block);
      emit(*block);
      return;
    }
    {
      const std::lock_guard lock(m_mutex);
      m_in_flight.push_back(block);
      m_todo.push_back(block.get());
    }
    m_work_cv.notify_one();
    drain(m_max_in_flight - 1);
  }

  // Writes the finished blocks at the front in order; waits until at most limit are in flight.
  void drain(size_t limit)
  {
    for (;;) {
      std::shared_ptr<Block> front;
      {
        std::unique_lock lock(m_mutex);
        if (m_in_flight.empty()) {
          return;
        }
        front = m_in_flight.front();
        if (!front->done) {
          if (m_in_flight.size() <= limit) {
            return;
          }
          if (!m_todo.empty()) { // rather than wait idle, compress a waiting block here
            Block* b = m_todo.front();
            m_todo.pop_front();
            lock.unlock();
            compress_one(*b, m_caller_deflater);
            continue;
          }
          m_done_cv.wait(lock, [&] { return front->done; });
        }
        m_in_flight.pop_front();
      }
      if (front->error) {
        std::rethrow_exception(front->error);
      }
      emit(*front);
    }
  }

  void emit(const Block& b)
  {
    if (!m_header_written) {
      m_next.write(k_header, sizeof k_header);
      m_header_written = true;
    }
    m_next.write(b.output.data(), b.output.size());
    m_crc = crc32_combine(m_crc, b.crc, static_cast<z_off_t>(b.input.size()));
    m_size += b.input.size();
  }

  void work()
  {
    std::optional<Deflater> deflater;
    for (;;) {
      Block* b = nullptr;
      {
        std::unique_lock lock(m_mutex);
        m_work_cv.wait(lock, [&] { return m_stop || !m_todo.empty(); });
        if (m_stop) {
          return;
        }
        b = m_todo.front();
        m_todo.pop_front();
      }
      compress_one(*b, deflater);
    }
  }

  // Compresses a block taken off m_todo (on a worker, or on the caller while it would wait).
  void compress_one(Block& b, std::optional<Deflater>& deflater)
  {
    try {
      if (!deflater) {
        deflater.emplace();
      }
      deflater->compress(b);
    } catch (...) {
      b.error = std::current_exception();
    }
    {
      const std::lock_guard lock(m_mutex);
      b.done = true;
    }
    m_done_cv.notify_all();
  }

  util::ByteSink& m_next;
  const size_t m_max_in_flight;
  std::shared_ptr<Block> m_filling;
  std::optional<Deflater> m_caller_deflater;      // the caller's, while it waits for the workers
  std::optional<Deflater> m_inline;               // one thread: no workers
  std::deque<std::shared_ptr<Block>> m_in_flight; // submitted, in stream order
  std::deque<Block*> m_todo;                      // submitted, not yet taken by a worker
  std::mutex m_mutex;
  std::condition_variable m_work_cv;
  std::condition_variable m_done_cv;
  bool m_stop = false;
  std::vector<std::thread> m_workers;
  bool m_header_written = false;
  uLong m_crc = crc32(0, nullptr, 0);
  std::uint64_t m_size = 0;
};

} // namespace

std::unique_ptr<util::ByteSink> make_parallel_gzip(util::ByteSink& next, unsigned threads)
{
  return std::make_unique<ParallelGzipSink>(next, threads);
}

} // namespace reproimg::normalize
