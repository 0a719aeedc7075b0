#include "services/accounts/users_service.hpp"

namespace market::services {

UsersService::UsersService(Database& db, UsersRepository& users, SessionsRepository& sessions,
                           AuthService& auth)
    : db_(db), users_(users), sessions_(sessions), auth_(auth) {}

Task<Result<domain::User>> UsersService::UpdateProfile(const Principal& principal,
                                                       domain::ProfilePatch patch) {
  auto errors = domain::ValidateProfilePatch(patch);
  if (!errors.empty()) co_return ValidationError(std::move(errors));
  if (!patch.display_name && !patch.email) co_return principal.user;
  Result<domain::User> updated = co_await users_.Update(principal.user.id, patch);
  auth_.ForgetSessions(principal.user.id);
  co_return updated;
}

Task<Result<void>> UsersService::DeleteAccount(const Principal& principal) {
  auto tx = co_await db_.Begin();
  co_await users_.Disable(*tx, principal.user.id);
  co_await sessions_.RevokeAllForUser(*tx, principal.user.id, std::nullopt, "account deleted");
  co_await tx->Commit();
  auth_.ForgetSessions(principal.user.id);
  co_return Ok();
}

Task<Result<void>> UsersService::ChangePassword(const Principal& principal,
                                                std::string current_password,
                                                std::string new_password) {
  const domain::User& user = principal.user;
  if (auto message = domain::CheckPassword(new_password, user.username, user.email))
    co_return ValidationError({{"new_password", *message}});
  std::optional<Credentials> credentials;
  {
    auto tx = co_await db_.Begin();
    credentials = co_await users_.FindCredentialsById(*tx, user.id);
  }
  if (!credentials || credentials->disabled)
    co_return MakeError(ErrorCode::kInvalidToken, "The session of this access token has ended.");
  // A stolen access token must not become a way to guess the password at full speed: this
  // shares the account's login bucket, since both are guesses at the same password.
  if (auto rate = co_await auth_.CheckAccountRate(user.id); !rate.ok())
    co_return std::move(rate).error();
  bool matches = co_await auth_.VerifyPassword(credentials->password_hash, current_password);
  if (!matches) co_return ValidationError({{"current_password", "is incorrect"}});

  std::string hash = co_await auth_.HashPassword(std::move(new_password));
  auto tx = co_await db_.Begin();
  co_await users_.SetPasswordHash(*tx, user.id, hash);
  co_await sessions_.RevokeAllForUser(*tx, user.id, principal.session_id, "password changed");
  co_await tx->Commit();
  auth_.ForgetSessions(user.id);
  co_return Ok();
}

Task<Result<domain::User>> UsersService::PublicProfile(std::string_view username) {
  auto user = co_await users_.FindActiveByUsername(domain::NormalizeUsername(username));
  if (!user) co_return MakeError(ErrorCode::kNotFound, "No such user.");
  co_return std::move(*user);
}

}  // namespace market::services
