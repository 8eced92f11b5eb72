// Streaming SHA-256 over OpenSSL's EVP interface (uses SHA-NI where the CPU has it).
#include "digest/sha256.hpp"

#include "util/error.hpp"
#include "util/hex.hpp"

#include <openssl/evp.h>

namespace reproimg::digest {

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new())
{
  if (!m_ctx || EVP_DigestInit_ex(m_ctx, EVP_sha256(), nullptr) != 1) {
    throw util::Error("OpenSSL: cannot initialise SHA-256");
  }
}

Sha256::~Sha256()
{
  EVP_MD_CTX_free(m_ctx);
}

Sha256::Sha256(Sha256&& other) noexcept : m_ctx(other.m_ctx)
{
  other.m_ctx = nullptr;
}

void Sha256::update(const void* data, size_t size)
{
  if (size > 0 && EVP_DigestUpdate(m_ctx, data, size) != 1) {
    throw util::Error("OpenSSL: SHA-256 update failed");
  }
}

Sha256Bytes Sha256::finish()
{
  Sha256Bytes out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(m_ctx, out.data(), &len) != 1 || len != out.size() ||
      EVP_DigestInit_ex(m_ctx, EVP_sha256(), nullptr) != 1) {
    throw util::Error("OpenSSL: SHA-256 finish failed");
  }
  return out;
}

std::string Sha256::finish_digest()
{
  return format_digest(finish());
}

std::string format_digest(const Sha256Bytes& bytes)
{
  return "sha256:" + util::to_hex(bytes.data(), bytes.size());
}

std::string sha256_digest(std::string_view data)
{
  Sha256 h;
  h.update(data);
  return h.finish_digest();
}

bool is_sha256_digest(std::string_view s)
{
  if (s.size() != 71 || s.substr(0, 7) != "sha256:") {
    return false;
  }
  for (char c : s.substr(7)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

} // namespace reproimg::digest
