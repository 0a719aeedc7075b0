#include "auth/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <boost/json.hpp>
#include <charconv>

#include "auth/tokens.hpp"

namespace market::auth {
namespace {

namespace json = boost::json;

constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";
constexpr std::string_view kType = "access";
// Clock skew tolerated on `iat` between API instances.
constexpr std::int64_t kIatLeewaySeconds = 60;

std::int64_t Seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Error Invalid() {
  return MakeError(ErrorCode::kInvalidToken, "The access token is invalid or expired.");
}

bool ParseId(const json::value* v, std::int64_t& out) {
  if (v == nullptr || !v->is_string()) return false;
  const auto& s = v->as_string();
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && out > 0;
}

bool ParseInt(const json::value* v, std::int64_t& out) {
  if (v == nullptr || !v->is_int64()) return false;
  out = v->as_int64();
  return true;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                      std::uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (bytes.size() - i == 1) {
    std::uint32_t n = std::uint8_t(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

bool Base64UrlDecode(std::string_view text, std::string& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) return false;
  out.clear();
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return false;
    acc = (acc << 6) | std::uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xFF);
    }
  }
  // Non-zero leftover bits mean a non-canonical encoding: two texts for one token.
  return (acc & ((1u << bits) - 1)) == 0;
}

JwtCodec::JwtCodec(std::string secret, std::string issuer)
    : secret_(std::move(secret)), issuer_(std::move(issuer)) {}

std::string JwtCodec::Mac(std::string_view signing_input) const {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), int(secret_.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
       mac.data(), &len);
  return std::string(reinterpret_cast<const char*>(mac.data()), len);
}

std::string JwtCodec::Sign(const AccessClaims& claims) const {
  json::object payload;
  payload["iss"] = issuer_;
  payload["sub"] = std::to_string(claims.user_id.value);
  payload["sid"] = std::to_string(claims.session_id.value);
  payload["iat"] = Seconds(claims.issued_at);
  payload["exp"] = Seconds(claims.expires_at);
  payload["jti"] = claims.jti;
  payload["typ"] = kType;
  std::string input = Base64UrlEncode(kHeader) + "." + Base64UrlEncode(json::serialize(payload));
  std::string signature = Base64UrlEncode(Mac(input));
  return input + "." + signature;
}

Result<AccessClaims> JwtCodec::Verify(std::string_view token, TimePoint now) const {
  if (token.size() > 4096) return Invalid();
  auto first = token.find('.');
  if (first == std::string_view::npos) return Invalid();
  auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return Invalid();

  std::string header_text, payload_text, signature;
  if (!Base64UrlDecode(token.substr(0, first), header_text) ||
      !Base64UrlDecode(token.substr(first + 1, second - first - 1), payload_text) ||
      !Base64UrlDecode(token.substr(second + 1), signature))
    return Invalid();

  // The header decides nothing: only HS256 is accepted, whatever it claims.
  boost::system::error_code ec;
  json::value header = json::parse(header_text, ec);
  if (ec || !header.is_object()) return Invalid();
  const json::value* alg = header.as_object().if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->as_string() != "HS256") return Invalid();

  std::string expected = Mac(token.substr(0, second));
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0)
    return Invalid();

  json::value payload = json::parse(payload_text, ec);
  if (ec || !payload.is_object()) return Invalid();
  const json::object& claims = payload.as_object();
  const json::value* typ = claims.if_contains("typ");
  const json::value* iss = claims.if_contains("iss");
  const json::value* jti = claims.if_contains("jti");
  if (typ == nullptr || !typ->is_string() || typ->as_string() != kType) return Invalid();
  if (iss == nullptr || !iss->is_string() || iss->as_string() != issuer_) return Invalid();
  if (jti == nullptr || !jti->is_string()) return Invalid();

  std::int64_t sub = 0, sid = 0, iat = 0, exp = 0;
  if (!ParseId(claims.if_contains("sub"), sub) || !ParseId(claims.if_contains("sid"), sid) ||
      !ParseInt(claims.if_contains("iat"), iat) || !ParseInt(claims.if_contains("exp"), exp))
    return Invalid();
  std::int64_t now_s = Seconds(now);
  if (exp <= now_s || iat > now_s + kIatLeewaySeconds || iat >= exp) return Invalid();

  return AccessClaims{.user_id = UserId{sub},
                      .session_id = SessionFamilyId{sid},
                      .issued_at = TimePoint(std::chrono::seconds(iat)),
                      .expires_at = TimePoint(std::chrono::seconds(exp)),
                      .jti = std::string(jti->as_string())};
}

}  // namespace market::auth
