#include "handlers/accounts.hpp"

#include "handlers/json_io.hpp"

namespace market::handlers {
namespace {

using http::Request;
using http::Response;
using services::AuthService;
using services::UsersService;

constexpr std::size_t kPasswordMaxBytes = 1024;

Task<Response> Register(AuthService& auth, Request& request) {
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  FieldReader fields(*body);
  domain::Registration registration{
      .email = fields.RequiredString("email"),
      .username = fields.RequiredString("username"),
      .password = fields.RequiredString("password", kPasswordMaxBytes),
      .display_name = fields.OptionalString("display_name")};
  fields.RejectOthers({"email", "username", "password", "display_name"});
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());

  auto session = co_await auth.Register(std::move(registration), ClientOf(request));
  if (!session.ok()) co_return http::ErrorResponse(session.error());
  co_return http::Json(201, SessionJson(*session));
}

Task<Response> Login(AuthService& auth, Request& request) {
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  FieldReader fields(*body);
  std::string login = fields.RequiredString("login", 254);
  std::string password = fields.RequiredString("password", kPasswordMaxBytes);
  fields.RejectOthers({"login", "password"});
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());

  auto session = co_await auth.Login(std::move(login), std::move(password), ClientOf(request));
  if (!session.ok()) co_return http::ErrorResponse(session.error());
  co_return http::Json(200, SessionJson(*session));
}

// The body of /auth/refresh and /auth/logout: {"refresh_token": "…"} and nothing else.
Result<std::string> ReadRefreshToken(const Request& request) {
  auto body = ParseJsonObject(request);
  if (!body.ok()) return body.error();
  FieldReader fields(*body);
  std::string token = fields.RequiredString("refresh_token");
  fields.RejectOthers({"refresh_token"});
  if (!fields.ok()) return fields.error();
  return token;
}

Task<Response> Refresh(AuthService& auth, Request& request) {
  auto token = ReadRefreshToken(request);
  if (!token.ok()) co_return http::ErrorResponse(token.error());
  auto session = co_await auth.Refresh(std::move(token).value(), ClientOf(request));
  if (!session.ok()) co_return http::ErrorResponse(session.error());
  co_return http::Json(200, SessionJson(*session));
}

Task<Response> Logout(AuthService& auth, Request& request) {
  auto token = ReadRefreshToken(request);
  if (!token.ok()) co_return http::ErrorResponse(token.error());
  co_await auth.Logout(std::move(token).value());
  co_return http::NoContent();
}

Task<Response> LogoutAll(AuthService& auth, Request& request) {
  auto principal = co_await auth.Authenticate(request.Header("authorization"));
  if (!principal.ok()) co_return AuthErrorResponse(principal.error());
  co_await auth.LogoutAll(*principal);
  co_return http::NoContent();
}

Task<Response> GetMe(AuthService& auth, Request& request) {
  auto principal = co_await auth.Authenticate(request.Header("authorization"));
  if (!principal.ok()) co_return AuthErrorResponse(principal.error());
  co_return http::Json(200, MeJson(principal->user));
}

Task<Response> PatchMe(AuthService& auth, UsersService& users, Request& request) {
  auto principal = co_await auth.Authenticate(request.Header("authorization"));
  if (!principal.ok()) co_return AuthErrorResponse(principal.error());
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  FieldReader fields(*body);
  domain::ProfilePatch patch{.display_name = fields.OptionalString("display_name"),
                             .email = fields.OptionalString("email")};
  fields.RejectOthers({"display_name", "email"}, {"username", "id", "created_at", "updated_at"});
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());

  auto user = co_await users.UpdateProfile(*principal, std::move(patch));
  if (!user.ok()) co_return http::ErrorResponse(user.error());
  co_return http::Json(200, MeJson(*user));
}

Task<Response> DeleteMe(AuthService& auth, UsersService& users, Request& request) {
  auto principal = co_await auth.Authenticate(request.Header("authorization"));
  if (!principal.ok()) co_return AuthErrorResponse(principal.error());
  auto deleted = co_await users.DeleteAccount(*principal);
  if (!deleted.ok()) co_return http::ErrorResponse(deleted.error());
  co_return http::NoContent();
}

Task<Response> ChangePassword(AuthService& auth, UsersService& users, Request& request) {
  auto principal = co_await auth.Authenticate(request.Header("authorization"));
  if (!principal.ok()) co_return AuthErrorResponse(principal.error());
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  FieldReader fields(*body);
  std::string current = fields.RequiredString("current_password", kPasswordMaxBytes);
  std::string next = fields.RequiredString("new_password", kPasswordMaxBytes);
  fields.RejectOthers({"current_password", "new_password"});
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());

  auto changed = co_await users.ChangePassword(*principal, std::move(current), std::move(next));
  if (!changed.ok()) co_return AuthErrorResponse(changed.error());
  co_return http::NoContent();
}

Task<Response> GetUser(UsersService& users, Request& request) {
  auto user = co_await users.PublicProfile(request.PathParam("username"));
  if (!user.ok()) co_return http::ErrorResponse(user.error());
  co_return http::Json(200, PublicUserJson(*user));
}

}  // namespace

void AddAccountRoutes(http::Router& router, AuthService& auth, UsersService& users) {
  using http::Method;
  router.Add(Method::kPost, "/api/v1/auth/register",
             [&auth](Request& r) { return Register(auth, r); });
  router.Add(Method::kPost, "/api/v1/auth/login", [&auth](Request& r) { return Login(auth, r); });
  router.Add(Method::kPost, "/api/v1/auth/refresh",
             [&auth](Request& r) { return Refresh(auth, r); });
  router.Add(Method::kPost, "/api/v1/auth/logout", [&auth](Request& r) { return Logout(auth, r); });
  router.Add(Method::kPost, "/api/v1/auth/logout-all",
             [&auth](Request& r) { return LogoutAll(auth, r); });
  router.Add(Method::kGet, "/api/v1/me", [&auth](Request& r) { return GetMe(auth, r); });
  router.Add(Method::kPatch, "/api/v1/me",
             [&auth, &users](Request& r) { return PatchMe(auth, users, r); });
  router.Add(Method::kDelete, "/api/v1/me",
             [&auth, &users](Request& r) { return DeleteMe(auth, users, r); });
  router.Add(Method::kPost, "/api/v1/me/password",
             [&auth, &users](Request& r) { return ChangePassword(auth, users, r); });
  router.Add(Method::kGet, "/api/v1/users/{username}",
             [&users](Request& r) { return GetUser(users, r); });
}

}  // namespace market::handlers
