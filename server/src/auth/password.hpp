#pragma once

#include <string>
#include <string_view>

namespace market::auth {

// Argon2id through libsodium. Both calls block for tens of milliseconds and use tens of MiB:
// run them through Offload on the small hashing pool, never on an io thread.
class PasswordHasher {
 public:
  enum class Cost { kInteractive, kModerate };
  explicit PasswordHasher(Cost cost = Cost::kInteractive);

  std::string Hash(std::string_view password) const;
  bool Verify(std::string_view hash, std::string_view password) const;
  // A hash of a random password, verified against when the account does not exist so that
  // an unknown login costs the same time as a wrong password.
  const std::string& dummy_hash() const { return dummy_hash_; }

 private:
  unsigned long long opslimit_;
  std::size_t memlimit_;
  std::string dummy_hash_;
};

}  // namespace market::auth
