#include "auth/signer.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/jwt.hpp"

namespace market::auth {
namespace {

// 128 bits of MAC keep cursors short and are plenty against forgery.
constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kMaxSealedLength = 1024;

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

}  // namespace

Signer::Signer(std::string_view secret, std::string_view purpose)
    : key_(Hmac(secret, std::string("marketplace signer: ") + std::string(purpose))) {}

std::string Signer::Mac(std::string_view data) const {
  return Hmac(key_, data).substr(0, kMacBytes);
}

std::string Signer::Seal(std::string_view text) const {
  return Base64UrlEncode(text) + "." + Base64UrlEncode(Mac(text));
}

std::optional<std::string> Signer::Open(std::string_view sealed) const {
  if (sealed.size() > kMaxSealedLength) return std::nullopt;
  auto dot = sealed.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string text, mac;
  if (!Base64UrlDecode(sealed.substr(0, dot), text) ||
      !Base64UrlDecode(sealed.substr(dot + 1), mac) || mac.size() != kMacBytes)
    return std::nullopt;
  std::string expected = Mac(text);
  if (CRYPTO_memcmp(mac.data(), expected.data(), kMacBytes) != 0) return std::nullopt;
  return text;
}

}  // namespace market::auth
