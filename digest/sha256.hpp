// Streaming SHA-256 (OpenSSL EVP) and the "sha256:<hex>" digest form used by OCI.
#pragma once

#include "util/file.hpp"

#include <array>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace reproimg::digest {

using Sha256Bytes = std::array<unsigned char, 32>;

class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&&) = delete;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  Sha256Bytes finish();
  // "sha256:<64 hex digits>"
  std::string finish_digest();

private:
  evp_md_ctx_st* m_ctx;
};

std::string format_digest(const Sha256Bytes& bytes);
std::string sha256_digest(std::string_view data);

// A sink that hashes what passes through and forwards it (next may be null).
class HashingSink : public util::ByteSink {
public:
  explicit HashingSink(util::ByteSink* next = nullptr) : m_next(next) {}
  void write(const void* data, size_t size) override
  {
    m_hash.update(data, size);
    m_bytes += size;
    if (m_next) {
      m_next->write(data, size);
    }
  }
  void finish() override
  {
    if (m_next) {
      m_next->finish();
    }
  }
  std::string digest() { return m_hash.finish_digest(); }
  std::uint64_t bytes() const { return m_bytes; }

private:
  Sha256 m_hash;
  util::ByteSink* m_next;
  std::uint64_t m_bytes = 0;
};

// Is s of the form sha256:<64 lower-case hex>?
bool is_sha256_digest(std::string_view s);

} // namespace reproimg::digest
