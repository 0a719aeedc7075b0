#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/users/user.hpp"
#include "services/accounts/auth_service.hpp"

namespace market::services {

// The signed-in user's own account, and public profiles.
class UsersService {
 public:
  UsersService(Database& db, UsersRepository& users, SessionsRepository& sessions,
               AuthService& auth);

  Task<Result<domain::User>> UpdateProfile(const Principal& principal, domain::ProfilePatch patch);
  // Disables the account at once and ends all its sessions; the data stays for a later purge.
  Task<Result<void>> DeleteAccount(const Principal& principal);
  // Needs the current password; ends every session but the caller's.
  Task<Result<void>> ChangePassword(const Principal& principal, std::string current_password,
                                    std::string new_password);
  Task<Result<domain::User>> PublicProfile(std::string_view username);

 private:
  Database& db_;
  UsersRepository& users_;
  SessionsRepository& sessions_;
  AuthService& auth_;
};

}  // namespace market::services
