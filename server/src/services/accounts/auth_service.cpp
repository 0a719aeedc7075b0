#include "services/accounts/auth_service.hpp"

#include <spdlog/spdlog.h>

#include "auth/tokens.hpp"
#include "common/offload.hpp"
#include "common/text.hpp"

namespace market::services {
namespace {

constexpr std::size_t kMaxTokenLength = 512;

Error InvalidCredentials() {
  return MakeError(ErrorCode::kInvalidCredentials, "The login or password is incorrect.");
}

Error InvalidRefreshToken() {
  return MakeError(ErrorCode::kInvalidToken, "The refresh token is invalid or expired.");
}

constexpr std::string_view kBearer = "Bearer ";

}  // namespace

AuthService::AuthService(Database& db, UsersRepository& users, SessionsRepository& sessions,
                         RateLimiter& limiter, const auth::JwtCodec& jwt,
                         const auth::PasswordHasher& hasher, boost::asio::thread_pool& hash_pool,
                         const Clock& clock, AuthOptions options, SessionCache* cache)
    : db_(db),
      users_(users),
      sessions_(sessions),
      limiter_(limiter),
      jwt_(jwt),
      hasher_(hasher),
      hash_pool_(hash_pool),
      clock_(clock),
      options_(options),
      cache_(cache) {}

Task<Result<void>> AuthService::CheckRate(const std::string& bucket, const RateRule& rule) {
  if (!options_.rate_limits) co_return Ok();
  RateDecision decision = co_await limiter_.Take(bucket, rule);
  if (decision.allowed) co_return Ok();
  Error error = MakeError(ErrorCode::kRateLimited, "Too many attempts; try again later.");
  auto ms = decision.retry_after.count();
  error.retry_after = std::chrono::seconds((ms + 999) / 1000);
  co_return error;
}

Task<Result<void>> AuthService::CheckAccountRate(UserId user) {
  co_return co_await CheckRate("login:account:" + std::to_string(user.value), options_.per_account);
}

Task<std::string> AuthService::HashPassword(std::string password) {
  auto hash = [this, password = std::move(password)] { return hasher_.Hash(password); };
  co_return co_await Offload(hash_pool_, std::move(hash));
}

Task<bool> AuthService::VerifyPassword(std::string hash, std::string password) {
  auto verify = [this, hash = std::move(hash), password = std::move(password)] {
    return hasher_.Verify(hash, password);
  };
  co_return co_await Offload(hash_pool_, std::move(verify));
}

TokenPair AuthService::IssueTokens(UserId user, SessionFamilyId family, std::string refresh_token,
                                   TimePoint refresh_expires_at) {
  TimePoint now = clock_.Now();
  auth::AccessClaims claims{.user_id = user,
                            .session_id = family,
                            .issued_at = now,
                            .expires_at = now + options_.access_ttl,
                            .jti = auth::NewRandomId()};
  return TokenPair{.access_token = jwt_.Sign(claims),
                   .expires_in = options_.access_ttl,
                   .refresh_token = std::move(refresh_token),
                   .refresh_expires_at = refresh_expires_at};
}

Task<TokenPair> AuthService::StartSession(Transaction& tx, UserId user, const ClientInfo& client) {
  std::string refresh = auth::NewOpaqueToken();
  // Whole seconds, so that the expiry the client is told equals the stored one.
  TimePoint expires_at =
      std::chrono::time_point_cast<std::chrono::seconds>(clock_.Now()) + options_.refresh_ttl;
  // Named, not braced inside the co_await: g++ 12 destroys such a temporary twice.
  NewSession session{.user_id = user,
                     .expires_at = expires_at,
                     .token_hash = auth::Sha256(refresh),
                     .user_agent = client.user_agent.substr(0, 256),
                     .ip = client.ip};
  SessionFamilyId family = co_await sessions_.Create(tx, session);
  co_return IssueTokens(user, family, std::move(refresh), expires_at);
}

Task<Result<Session>> AuthService::Register(domain::Registration registration, ClientInfo client) {
  if (auto rate = co_await CheckRate("register:ip:" + client.ip, options_.per_ip); !rate.ok())
    co_return std::move(rate).error();
  auto errors = domain::ValidateRegistration(registration);
  if (!errors.empty()) co_return ValidationError(std::move(errors));
  if (auto rate =
          co_await CheckRate("register:account:" + registration.email, options_.per_account);
      !rate.ok())
    co_return std::move(rate).error();

  std::string hash = co_await HashPassword(registration.password);
  auto tx = co_await db_.Begin();
  NewUser new_user{.username = registration.username,
                   .email = registration.email,
                   .display_name = registration.display_name.value_or(registration.username),
                   .password_hash = std::move(hash)};
  auto user = co_await users_.Insert(*tx, new_user);
  if (!user.ok()) co_return std::move(user).error();
  TokenPair tokens = co_await StartSession(*tx, user->id, client);
  co_await tx->Commit();
  co_return Session{.user = std::move(user).value(), .tokens = std::move(tokens)};
}

Task<Result<Session>> AuthService::Login(std::string login, std::string password,
                                         ClientInfo client) {
  if (auto rate = co_await CheckRate("login:ip:" + client.ip, options_.per_ip); !rate.ok())
    co_return std::move(rate).error();
  std::string normalized = domain::NormalizeEmail(login);
  auto credentials = co_await users_.FindCredentials(normalized);
  // One bucket per account however it is named (username or email); unknown names get their own.
  Result<void> rate = Ok();
  if (credentials) {
    rate = co_await CheckAccountRate(credentials->user.id);
  } else {
    rate = co_await CheckRate("login:name:" + normalized, options_.per_account);
  }
  if (!rate.ok()) co_return std::move(rate).error();

  // The hash is verified even for unknown or disabled accounts so that the answer takes the same
  // time and says the same thing in every failing case.
  std::string hash = credentials ? credentials->password_hash : hasher_.dummy_hash();
  bool matches = co_await VerifyPassword(std::move(hash), std::move(password));
  if (!credentials || credentials->disabled || !matches) co_return InvalidCredentials();

  auto tx = co_await db_.Begin();
  TokenPair tokens = co_await StartSession(*tx, credentials->user.id, client);
  co_await tx->Commit();
  co_return Session{.user = std::move(credentials->user), .tokens = std::move(tokens)};
}

Task<Result<Session>> AuthService::Refresh(std::string refresh_token, ClientInfo client) {
  if (refresh_token.empty() || refresh_token.size() > kMaxTokenLength)
    co_return InvalidRefreshToken();
  std::string next = auth::NewOpaqueToken();
  std::optional<SessionFamilyId> reused;
  {
    auto tx = co_await db_.Begin();
    RotateOutcome outcome = co_await sessions_.Rotate(*tx, auth::Sha256(refresh_token),
                                                      auth::Sha256(next), clock_.Now());
    if (outcome.status == RotateStatus::kRotated) {
      auto credentials = co_await users_.FindCredentialsById(*tx, outcome.user_id);
      if (!credentials || credentials->disabled) co_return InvalidRefreshToken();
      co_await tx->Commit();
      TokenPair tokens =
          IssueTokens(outcome.user_id, outcome.family_id, std::move(next), outcome.expires_at);
      co_return Session{.user = std::move(credentials->user), .tokens = std::move(tokens)};
    }
    if (outcome.status == RotateStatus::kInvalid) co_return InvalidRefreshToken();
    reused = outcome.family_id;
  }
  // A used token presented again means it leaked (or a client raced itself): end the whole
  // family, the legitimate holder's newer tokens included.
  spdlog::warn("refresh token reuse detected; revoking session family {}", reused->value);
  co_await sessions_.RevokeFamily(*reused, "refresh token reused");
  if (cache_ != nullptr) cache_->ForgetFamily(*reused);
  co_return MakeError(ErrorCode::kTokenReused,
                      "This refresh token was already used; the session has been ended.");
}

Task<void> AuthService::Logout(std::string refresh_token) {
  if (refresh_token.empty() || refresh_token.size() > kMaxTokenLength) co_return;
  auto family = co_await sessions_.FamilyOfToken(auth::Sha256(refresh_token));
  if (!family) co_return;
  co_await sessions_.RevokeFamily(*family, "logout");
  if (cache_ != nullptr) cache_->ForgetFamily(*family);
}

Task<void> AuthService::LogoutAll(const Principal& principal) {
  auto tx = co_await db_.Begin();
  co_await sessions_.RevokeAllForUser(*tx, principal.user.id, std::nullopt, "logout all");
  co_await tx->Commit();
  ForgetSessions(principal.user.id);
}

void AuthService::ForgetSessions(UserId user) {
  if (cache_ != nullptr) cache_->ForgetUser(user);
}

Task<Result<Principal>> AuthService::Authenticate(std::string_view authorization) {
  if (authorization.size() <= kBearer.size() || !StartsWithIgnoreCase(authorization, kBearer))
    co_return MakeError(ErrorCode::kUnauthenticated, "A bearer access token is required.");
  std::string_view token = authorization.substr(kBearer.size());
  auto claims = jwt_.Verify(token, clock_.Now());
  if (!claims.ok()) co_return std::move(claims).error();
  std::optional<domain::User> user;
  if (cache_ != nullptr) user = cache_->Find(claims->user_id, claims->session_id, clock_.Now());
  if (!user) {
    std::uint64_t generation = cache_ != nullptr ? cache_->generation() : 0;
    user = co_await sessions_.FindSessionUser(claims->user_id, claims->session_id, clock_.Now());
    if (!user)
      co_return MakeError(ErrorCode::kInvalidToken, "The session of this access token has ended.");
    if (cache_ != nullptr) cache_->Remember(generation, claims->session_id, *user, clock_.Now());
  }
  co_return Principal{.user = std::move(*user), .session_id = claims->session_id};
}

}  // namespace market::services
