#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/users/user.hpp"
#include "services/database.hpp"

namespace market::services {

struct NewUser {
  std::string username;  // normalised
  std::string email;     // normalised
  std::string display_name;
  std::string password_hash;
};

struct Credentials {
  domain::User user;
  std::string password_hash;
  bool disabled = false;
};

class UsersRepository {
 public:
  virtual ~UsersRepository() = default;

  // kConflict with field `username` or `email` when either is taken.
  virtual Task<Result<domain::User>> Insert(Transaction& tx, const NewUser& user) = 0;
  // By normalised username or email; disabled accounts are returned with disabled=true.
  virtual Task<std::optional<Credentials>> FindCredentials(std::string_view login) = 0;
  virtual Task<std::optional<Credentials>> FindCredentialsById(Transaction& tx, UserId id) = 0;
  // Active accounts only.
  virtual Task<std::optional<domain::User>> FindActiveByUsername(std::string_view username) = 0;
  // Applies the set fields; kConflict on a taken email; kNotFound when the account is gone.
  virtual Task<Result<domain::User>> Update(UserId id, const domain::ProfilePatch& patch) = 0;
  virtual Task<void> SetPasswordHash(Transaction& tx, UserId id, const std::string& hash) = 0;
  virtual Task<void> Disable(Transaction& tx, UserId id) = 0;
};

}  // namespace market::services
