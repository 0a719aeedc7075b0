#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace market::auth {

// Tamper-evident opaque strings (pagination cursors): base64url(text) "." base64url(MAC), with
// an HMAC-SHA256 under a key derived from the server secret and a purpose, so that a value made
// for one purpose is refused for another.
class Signer {
 public:
  Signer(std::string_view secret, std::string_view purpose);

  std::string Seal(std::string_view text) const;
  // nullopt when malformed or not made by a signer with this secret and purpose.
  std::optional<std::string> Open(std::string_view sealed) const;

 private:
  std::string Mac(std::string_view data) const;
  std::string key_;
};

}  // namespace market::auth
