#pragma once

#include <string>
#include <string_view>

namespace market::auth {

// 32 random bytes from libsodium, base64url: an opaque refresh token.
std::string NewOpaqueToken();
// A short random id (16 bytes, base64url) for `jti` and request ids.
std::string NewRandomId();
// Raw SHA-256 of `text`: refresh tokens are stored only as this.
std::string Sha256(std::string_view text);

}  // namespace market::auth
