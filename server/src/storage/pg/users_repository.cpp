#include "storage/pg/users_repository.hpp"

#include "storage/pg/params.hpp"

namespace market::pg {
namespace {

#define USER_COLUMNS \
  "id, username::text AS username, email::text AS email, display_name, created_at, updated_at"

constexpr Statement kInsert{"users.insert",
                            "INSERT INTO users (username, email, display_name, password_hash) "
                            "VALUES ($1, $2, $3, $4) RETURNING " USER_COLUMNS};

constexpr Statement kFindCredentials{
    "users.find_credentials", "SELECT " USER_COLUMNS
                              ", password_hash, deleted_at IS NOT NULL AS disabled FROM users "
                              "WHERE username = $1 OR email = $1 ORDER BY id LIMIT 1"};

constexpr Statement kFindCredentialsById{
    "users.find_credentials_by_id",
    "SELECT " USER_COLUMNS
    ", password_hash, deleted_at IS NOT NULL AS disabled FROM users "
    "WHERE id = $1"};

constexpr Statement kFindActiveByUsername{"users.find_active_by_username",
                                          "SELECT " USER_COLUMNS
                                          " FROM users WHERE username = $1 AND deleted_at IS NULL"};

constexpr Statement kUpdate{
    "users.update",
    "UPDATE users SET display_name = COALESCE($2, display_name), email = COALESCE($3, email), "
    "updated_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING " USER_COLUMNS};

constexpr Statement kSetPasswordHash{
    "users.set_password_hash",
    "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1"};

constexpr Statement kDisable{
    "users.disable",
    "UPDATE users SET deleted_at = COALESCE(deleted_at, now()), updated_at = now() WHERE id = $1"};

#undef USER_COLUMNS

services::Credentials CredentialsFromRow(const QueryResult& result, int row) {
  return services::Credentials{.user = UserFromRow(result, row),
                               .password_hash = result.String(row, "password_hash"),
                               .disabled = result.Bool(row, "disabled")};
}

// The constraint names are those of server/migrations/0001_accounts.sql.
Error ConflictFor(const PgError& error) {
  if (error.constraint() == "users_email_key")
    return Error{.code = ErrorCode::kConflict,
                 .message = "This email is already registered.",
                 .fields = {{"email", "is already taken"}}};
  return Error{.code = ErrorCode::kConflict,
               .message = "This username is already taken.",
               .fields = {{"username", "is already taken"}}};
}

}  // namespace

domain::User UserFromRow(const QueryResult& result, int row) {
  return domain::User{.id = UserId{result.Int(row, "id")},
                      .username = result.String(row, "username"),
                      .email = result.String(row, "email"),
                      .display_name = result.String(row, "display_name"),
                      .created_at = result.Time(row, "created_at"),
                      .updated_at = result.Time(row, "updated_at")};
}

Task<Result<domain::User>> PgUsersRepository::Insert(services::Transaction& tx,
                                                     const services::NewUser& user) {
  std::optional<PgError> conflict;
  try {
    QueryResult result = co_await AsPg(tx).Execute(
        kInsert, Params(user.username, user.email, user.display_name, user.password_hash));
    co_return UserFromRow(result, 0);
  } catch (const PgError& error) {
    if (!error.IsUniqueViolation()) throw;
    conflict = error;
  }
  co_return ConflictFor(*conflict);
}

Task<std::optional<services::Credentials>> PgUsersRepository::FindCredentials(
    std::string_view login) {
  QueryResult result = co_await pool_.Execute(kFindCredentials, Params(login));
  if (result.empty()) co_return std::nullopt;
  co_return CredentialsFromRow(result, 0);
}

Task<std::optional<services::Credentials>> PgUsersRepository::FindCredentialsById(
    services::Transaction& tx, UserId id) {
  QueryResult result = co_await AsPg(tx).Execute(kFindCredentialsById, Params(id.value));
  if (result.empty()) co_return std::nullopt;
  co_return CredentialsFromRow(result, 0);
}

Task<std::optional<domain::User>> PgUsersRepository::FindActiveByUsername(
    std::string_view username) {
  QueryResult result = co_await pool_.Execute(kFindActiveByUsername, Params(username));
  if (result.empty()) co_return std::nullopt;
  co_return UserFromRow(result, 0);
}

Task<Result<domain::User>> PgUsersRepository::Update(UserId id, const domain::ProfilePatch& patch) {
  std::optional<PgError> conflict;
  try {
    QueryResult result =
        co_await pool_.Execute(kUpdate, Params(id.value, patch.display_name, patch.email));
    if (result.empty()) co_return MakeError(ErrorCode::kNotFound, "The account no longer exists.");
    co_return UserFromRow(result, 0);
  } catch (const PgError& error) {
    if (!error.IsUniqueViolation()) throw;
    conflict = error;
  }
  co_return ConflictFor(*conflict);
}

Task<void> PgUsersRepository::SetPasswordHash(services::Transaction& tx, UserId id,
                                              const std::string& hash) {
  co_await AsPg(tx).Execute(kSetPasswordHash, Params(id.value, hash));
}

Task<void> PgUsersRepository::Disable(services::Transaction& tx, UserId id) {
  co_await AsPg(tx).Execute(kDisable, Params(id.value));
}

}  // namespace market::pg
