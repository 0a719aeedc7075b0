#include "auth/tokens.hpp"

#include <sodium.h>

#include <array>

#include "auth/jwt.hpp"

namespace market::auth {
namespace {

std::string RandomBase64(std::size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return Base64UrlEncode(raw);
}

}  // namespace

std::string NewOpaqueToken() { return RandomBase64(32); }

std::string NewRandomId() { return RandomBase64(16); }

std::string Sha256(std::string_view text) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(text.data()),
                     text.size());
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

}  // namespace market::auth
