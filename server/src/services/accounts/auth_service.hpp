#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <boost/asio/thread_pool.hpp>

#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/users/user.hpp"
#include "services/accounts/session_cache.hpp"
#include "services/accounts/sessions_repository.hpp"
#include "services/accounts/users_repository.hpp"
#include "services/database.hpp"
#include "services/rate_limiter.hpp"

namespace market::services {

struct ClientInfo {
  std::string ip;
  std::string user_agent;
};

struct TokenPair {
  std::string access_token;
  std::chrono::seconds expires_in;
  std::string refresh_token;
  TimePoint refresh_expires_at;
};

struct Session {
  domain::User user;
  TokenPair tokens;
};

// Who is calling: the user and the login (session family) the access token was issued to.
struct Principal {
  domain::User user;
  SessionFamilyId session_id;
};

struct AuthOptions {
  std::chrono::seconds access_ttl{600};
  std::chrono::seconds refresh_ttl{std::chrono::hours(24 * 30)};
  bool rate_limits = true;
  RateRule per_ip{30, std::chrono::seconds(2)};
  RateRule per_account{10, std::chrono::seconds(30)};
};

// Accounts and sessions: sign-up, sign-in, refresh-token rotation with reuse detection
// (RFC 9700 section 4.14.2), sign-out, and turning an access token into a Principal.
class AuthService {
 public:
  AuthService(Database& db, UsersRepository& users, SessionsRepository& sessions,
              RateLimiter& limiter, const auth::JwtCodec& jwt, const auth::PasswordHasher& hasher,
              boost::asio::thread_pool& hash_pool, const Clock& clock, AuthOptions options,
              SessionCache* cache = nullptr);

  Task<Result<Session>> Register(domain::Registration registration, ClientInfo client);
  Task<Result<Session>> Login(std::string login, std::string password, ClientInfo client);
  Task<Result<Session>> Refresh(std::string refresh_token, ClientInfo client);
  Task<void> Logout(std::string refresh_token);
  Task<void> LogoutAll(const Principal& principal);

  // `authorization` is the Authorization header. An access token stops working as soon as its
  // session is revoked or its account disabled: this is checked in PostgreSQL, or in the session
  // cache when one is given (see SessionCache for what it may cost).

  Task<Result<Principal>> Authenticate(std::string_view authorization);

  // After a change to the user's account or sessions has committed: what the session cache
  // remembers of them is dropped.
  void ForgetSessions(UserId user);

  Task<std::string> HashPassword(std::string password);
  Task<bool> VerifyPassword(std::string hash, std::string password);
  // Takes a token from the account's bucket of password attempts.
  Task<Result<void>> CheckAccountRate(UserId user);
  // Starts a new session family for `user` inside `tx` and returns its token pair.
  Task<TokenPair> StartSession(Transaction& tx, UserId user, const ClientInfo& client);

 private:
  Task<Result<void>> CheckRate(const std::string& bucket, const RateRule& rule);
  TokenPair IssueTokens(UserId user, SessionFamilyId family, std::string refresh_token,
                        TimePoint refresh_expires_at);

  Database& db_;
  UsersRepository& users_;
  SessionsRepository& sessions_;
  RateLimiter& limiter_;
  const auth::JwtCodec& jwt_;
  const auth::PasswordHasher& hasher_;
  boost::asio::thread_pool& hash_pool_;
  const Clock& clock_;
  AuthOptions options_;
  SessionCache* cache_;
};

}  // namespace market::services
