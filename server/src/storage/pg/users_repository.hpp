#pragma once

#include "services/accounts/users_repository.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

class PgUsersRepository final : public services::UsersRepository {
 public:
  explicit PgUsersRepository(Pool& pool) : pool_(pool) {}

  Task<Result<domain::User>> Insert(services::Transaction& tx,
                                    const services::NewUser& user) override;
  Task<std::optional<services::Credentials>> FindCredentials(std::string_view login) override;
  Task<std::optional<services::Credentials>> FindCredentialsById(services::Transaction& tx,
                                                                 UserId id) override;
  Task<std::optional<domain::User>> FindActiveByUsername(std::string_view username) override;
  Task<Result<domain::User>> Update(UserId id, const domain::ProfilePatch& patch) override;
  Task<void> SetPasswordHash(services::Transaction& tx, UserId id,
                             const std::string& hash) override;
  Task<void> Disable(services::Transaction& tx, UserId id) override;

 private:
  Pool& pool_;
};

// Maps the columns of kUserColumns in row `row`.
domain::User UserFromRow(const QueryResult& result, int row);

}  // namespace market::pg
