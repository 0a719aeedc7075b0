#pragma once

#include "services/accounts/sessions_repository.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

class PgSessionsRepository final : public services::SessionsRepository {
 public:
  explicit PgSessionsRepository(Pool& pool) : pool_(pool) {}

  Task<SessionFamilyId> Create(services::Transaction& tx,
                               const services::NewSession& session) override;
  Task<services::RotateOutcome> Rotate(services::Transaction& tx, std::string_view old_hash,
                                       std::string_view new_hash, TimePoint now) override;
  Task<void> RevokeFamily(SessionFamilyId family, std::string_view reason) override;
  Task<std::optional<SessionFamilyId>> FamilyOfToken(std::string_view hash) override;
  Task<void> RevokeAllForUser(services::Transaction& tx, UserId user,
                              std::optional<SessionFamilyId> keep,
                              std::string_view reason) override;
  Task<std::optional<domain::User>> FindSessionUser(UserId user, SessionFamilyId family,
                                                    TimePoint now) override;

 private:
  Pool& pool_;
};

}  // namespace market::pg
