#include "auth/webhook_signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <vector>

namespace market::auth {
namespace {

constexpr std::size_t kMacBytes = 32;
// Real headers hold a timestamp and one or two signatures; a bound keeps the work per request
// small whatever a sender puts there.
constexpr std::size_t kMaxHeaderBytes = 2048;
constexpr std::size_t kMaxSignatures = 8;

using Mac = std::array<unsigned char, kMacBytes>;

Mac ComputeMac(std::string_view secret, std::int64_t timestamp, std::string_view body) {
  std::string payload = std::to_string(timestamp);
  payload += '.';
  payload += body;
  Mac mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac.data(),
           &length) == nullptr ||
      length != kMacBytes)
    throw std::runtime_error("HMAC-SHA256 failed");
  return mac;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<Mac> DecodeMac(std::string_view hex) {
  if (hex.size() != 2 * kMacBytes) return std::nullopt;
  Mac mac{};
  for (std::size_t i = 0; i < kMacBytes; ++i) {
    const int high = HexValue(hex[2 * i]);
    const int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    mac[i] = static_cast<unsigned char>(high << 4 | low);
  }
  return mac;
}

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidSignature, std::move(message));
}

}  // namespace

std::string SignWebhook(std::string_view secret, std::int64_t timestamp, std::string_view body) {
  constexpr char kHex[] = "0123456789abcdef";
  const Mac mac = ComputeMac(secret, timestamp, body);
  std::string header = "t=" + std::to_string(timestamp) + ",v1=";
  for (unsigned char byte : mac) {
    header += kHex[byte >> 4];
    header += kHex[byte & 0xf];
  }
  return header;
}

Result<void> VerifyWebhook(std::string_view header, std::string_view body, std::string_view secret,
                           TimePoint now, std::chrono::seconds tolerance) {
  // An empty secret would let anyone sign: a configuration error, never a pass.
  if (secret.empty()) return Invalid("No webhook secret is configured.");
  if (header.empty()) return Invalid("The signature header is missing.");
  if (header.size() > kMaxHeaderBytes) return Invalid("The signature header is too long.");

  std::optional<std::int64_t> timestamp;
  std::vector<std::string_view> signatures;
  for (bool last = false; !last;) {
    const std::size_t comma = header.find(',');
    last = comma == std::string_view::npos;
    const std::string_view item = header.substr(0, comma);
    if (!last) header.remove_prefix(comma + 1);
    const std::size_t equals = item.find('=');
    if (equals == 0 || equals == std::string_view::npos)
      return Invalid("The signature header is malformed.");
    const std::string_view key = item.substr(0, equals);
    const std::string_view value = item.substr(equals + 1);
    if (key == "t") {
      std::int64_t t = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), t);
      if (timestamp || value.empty() || ec != std::errc() || end != value.data() + value.size() ||
          t < 0)
        return Invalid("The signature header has no valid timestamp.");
      timestamp = t;
    } else if (key == "v1") {
      if (signatures.size() == kMaxSignatures)
        return Invalid("The signature header has too many signatures.");
      signatures.push_back(value);
    }
    // Other schemes (v0, future ones) are ignored, as Stripe's libraries do.
  }
  if (!timestamp) return Invalid("The signature header has no timestamp.");
  if (signatures.empty()) return Invalid("The signature header has no v1 signature.");

  // In whole seconds, which cannot overflow whatever the header claims.
  const std::int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::int64_t age = now_seconds - *timestamp;
  if (age > tolerance.count() || age < -tolerance.count())
    return Invalid("The signature timestamp is outside the tolerance.");

  const Mac expected = ComputeMac(secret, *timestamp, body);
  bool matched = false;
  // Every candidate is compared, so the time taken says nothing about which one matched.
  for (std::string_view signature : signatures) {
    if (auto mac = DecodeMac(signature)) {
      matched |= CRYPTO_memcmp(mac->data(), expected.data(), kMacBytes) == 0;
    }
  }
  if (!matched) return Invalid("No signature matches the payload.");
  return Ok();
}

}  // namespace market::auth
