#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/task.hpp"
#include "domain/users/user.hpp"
#include "services/database.hpp"

namespace market::services {

struct NewSession {
  UserId user_id;
  TimePoint expires_at;    // absolute: rotation never extends it
  std::string token_hash;  // SHA-256 of the first refresh token
  std::string user_agent;
  std::string ip;
};

enum class RotateStatus {
  kRotated,  // the token was live and unused; it is now used and `new_hash` is live
  kReused,   // the token exists but was already used: a replay
  kInvalid,  // unknown, expired, revoked, or its user is disabled
};

struct RotateOutcome {
  RotateStatus status = RotateStatus::kInvalid;
  UserId user_id;
  SessionFamilyId family_id;
  TimePoint expires_at;
};

class SessionsRepository {
 public:
  virtual ~SessionsRepository() = default;

  virtual Task<SessionFamilyId> Create(Transaction& tx, const NewSession& session) = 0;
  // Marks the token with `old_hash` used and adds `new_hash` to its family, atomically: of two
  // concurrent rotations of one token exactly one sees kRotated.
  virtual Task<RotateOutcome> Rotate(Transaction& tx, std::string_view old_hash,
                                     std::string_view new_hash, TimePoint now) = 0;
  virtual Task<void> RevokeFamily(SessionFamilyId family, std::string_view reason) = 0;
  // The family the token with `hash` belongs to, used or not; nullopt when unknown.
  virtual Task<std::optional<SessionFamilyId>> FamilyOfToken(std::string_view hash) = 0;
  // Revokes every live family of the user except `keep`.
  virtual Task<void> RevokeAllForUser(Transaction& tx, UserId user,
                                      std::optional<SessionFamilyId> keep,
                                      std::string_view reason) = 0;
  // The user behind an access token, in one query: found only if the session family is live
  // (not revoked, not expired) and the account is active.
  virtual Task<std::optional<domain::User>> FindSessionUser(UserId user, SessionFamilyId family,
                                                            TimePoint now) = 0;
};

}  // namespace market::services
