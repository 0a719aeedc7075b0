#pragma once

#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/result.hpp"

namespace market::auth {

struct AccessClaims {
  UserId user_id;
  SessionFamilyId session_id;
  TimePoint issued_at;
  TimePoint expires_at;
  std::string jti;
};

// HS256 access tokens. The algorithm is pinned: a token whose header names anything else
// (including "none" and asymmetric algorithms) is refused before its signature is looked at.
class JwtCodec {
 public:
  // `secret` must be at least 32 bytes (checked by the configuration).
  JwtCodec(std::string secret, std::string issuer);

  std::string Sign(const AccessClaims& claims) const;
  // kInvalidToken for anything malformed, forged, of another type or issuer, or expired at `now`.
  Result<AccessClaims> Verify(std::string_view token, TimePoint now) const;

 private:
  std::string Mac(std::string_view signing_input) const;

  std::string secret_;
  std::string issuer_;
};

std::string Base64UrlEncode(std::string_view bytes);
// nullopt-like failure is an empty optional; padding is not accepted.
bool Base64UrlDecode(std::string_view text, std::string& out);

}  // namespace market::auth
