#include "http/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <exception>
#include <optional>
#include <stdexcept>

namespace market::http {
namespace {

namespace asio = boost::asio;

Handler Named(std::string name) {
  return [name = std::move(name)](Request& request) -> Task<Response> {
    std::string body = name;
    for (const auto& [key, value] : request.path_params) body += " " + key + "=" + value;
    co_return Text(200, "text/plain", std::move(body));
  };
}

Response Dispatch(const Router& router, Method method, std::string path) {
  Request request;
  request.method = method;
  request.path = std::move(path);
  request.target = request.path;
  asio::io_context io;
  std::optional<Response> response;
  std::exception_ptr failure;
  asio::co_spawn(io, router.Dispatch(request), [&](std::exception_ptr e, Response r) {
    failure = e;
    response = std::move(r);
  });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*response);
}

std::string ErrorCodeOf(const Response& response) {
  return std::string(boost::json::parse(response.body).at("error").at("code").as_string().c_str());
}

TEST(Router, MatchesLiteralPathAndCapturesParameters) {
  Router router;
  router.Add(Method::kGet, "/api/v1/users/{username}/listings/{id}", Named("listing"));
  Response response = Dispatch(router, Method::kGet, "/api/v1/users/ada/listings/42");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "listing username=ada id=42");
}

TEST(Router, ParameterDoesNotMatchEmptySegment) {
  Router router;
  router.Add(Method::kGet, "/users/{id}", Named("user"));
  EXPECT_EQ(Dispatch(router, Method::kGet, "/users/").status, 404);
  EXPECT_EQ(Dispatch(router, Method::kGet, "/users").status, 404);
}

TEST(Router, UnknownPathIs404WithStandardBody) {
  Router router;
  router.Add(Method::kGet, "/a", Named("a"));
  Response response = Dispatch(router, Method::kGet, "/b");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(ErrorCodeOf(response), "not_found");
  auto message = boost::json::parse(response.body).at("error").at("message").as_string();
  EXPECT_EQ(message, "No route for GET /b.");
}

TEST(Router, FallbackAnswersOnlyGetAndHeadOfUnknownPaths) {
  Router router;
  router.Add(Method::kGet, "/api/v1/items", Named("items"));
  router.Add(Method::kPost, "/api/v1/orders", Named("orders"));
  router.SetFallback(Named("fallback"));
  EXPECT_EQ(Dispatch(router, Method::kGet, "/cart").body, "fallback");
  EXPECT_EQ(Dispatch(router, Method::kHead, "/cart").body, "fallback");
  EXPECT_EQ(Dispatch(router, Method::kGet, "/api/v1/items").body, "items");
  EXPECT_EQ(Dispatch(router, Method::kPost, "/cart").status, 404);
  // A known path keeps its 405: the fallback is not a route for every method.
  EXPECT_EQ(Dispatch(router, Method::kGet, "/api/v1/orders").status, 405);
  EXPECT_TRUE(router.Routes().size() == 2);
}

TEST(Router, KnownPathWithOtherMethodIs405WithAllow) {
  Router router;
  router.Add(Method::kGet, "/items/{id}", Named("get"));
  router.Add(Method::kDelete, "/items/{id}", Named("delete"));
  router.Add(Method::kOptions, "/items/{id}", Named("options"));
  router.Add(Method::kPost, "/items", Named("create"));
  Response response = Dispatch(router, Method::kPut, "/items/7");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(ErrorCodeOf(response), "method_not_allowed");
  EXPECT_EQ(response.Header("Allow"), "GET, HEAD, DELETE");
}

TEST(Router, AllowOmitsHeadWithoutGet) {
  Router router;
  router.Add(Method::kPost, "/items", Named("create"));
  Response response = Dispatch(router, Method::kGet, "/items");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(response.Header("allow"), "POST");
}

TEST(Router, HeadFallsBackToGetHandler) {
  Router router;
  router.Add(Method::kGet, "/items/{id}", Named("get"));
  Response response = Dispatch(router, Method::kHead, "/items/3");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "get id=3");
}

TEST(Router, ExplicitHeadRouteWinsOverGet) {
  Router router;
  router.Add(Method::kGet, "/items", Named("get"));
  router.Add(Method::kHead, "/items", Named("head"));
  EXPECT_EQ(Dispatch(router, Method::kHead, "/items").body, "head");
}

TEST(Router, TrailingSlashIsADifferentPath) {
  Router router;
  router.Add(Method::kGet, "/items", Named("items"));
  EXPECT_EQ(Dispatch(router, Method::kGet, "/items").status, 200);
  EXPECT_EQ(Dispatch(router, Method::kGet, "/items/").status, 404);

  Router slashed;
  slashed.Add(Method::kGet, "/items/", Named("slashed"));
  EXPECT_EQ(Dispatch(slashed, Method::kGet, "/items/").status, 200);
  EXPECT_EQ(Dispatch(slashed, Method::kGet, "/items").status, 404);
}

TEST(Router, RootPathMatchesOnlyRoot) {
  Router router;
  router.Add(Method::kGet, "/", Named("root"));
  EXPECT_EQ(Dispatch(router, Method::kGet, "/").body, "root");
  EXPECT_EQ(Dispatch(router, Method::kGet, "/x").status, 404);
}

TEST(Router, LiteralSegmentBeatsParameterWhateverTheOrder) {
  Router router;
  router.Add(Method::kGet, "/users/{id}", Named("by-id"));
  router.Add(Method::kGet, "/users/me", Named("me"));
  EXPECT_EQ(Dispatch(router, Method::kGet, "/users/me").body, "me");
  EXPECT_EQ(Dispatch(router, Method::kGet, "/users/42").body, "by-id id=42");
}

TEST(Router, HandlerExceptionsPropagateToTheCaller) {
  Router router;
  router.Add(Method::kGet, "/boom", [](Request&) -> Task<Response> {
    throw std::runtime_error("boom");
    co_return NoContent();
  });
  EXPECT_THROW(Dispatch(router, Method::kGet, "/boom"), std::runtime_error);
}

TEST(Router, RoutesAreListedInRegistrationOrder) {
  Router router;
  router.Add(Method::kPost, "/b", Named("b"));
  router.Add(Method::kGet, "/a", Named("a"));
  router.Add(Method::kGet, "/b/{id}", Named("c"));
  auto routes = router.Routes();
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0].method, Method::kPost);
  EXPECT_EQ(routes[0].pattern, "/b");
  EXPECT_EQ(routes[1].pattern, "/a");
  EXPECT_EQ(routes[2].pattern, "/b/{id}");
}

TEST(Router, RejectsMalformedOrDuplicateRoutes) {
  Router router;
  router.Add(Method::kGet, "/a", Named("a"));
  EXPECT_THROW(router.Add(Method::kGet, "/a", Named("again")), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "a", Named("relative")), std::invalid_argument);
  EXPECT_THROW(router.Add(Method::kGet, "/x{id}", Named("partial")), std::invalid_argument);
}

TEST(Request, QueryParamDecodesPlusAndPercentEscapes) {
  Request request;
  request.query = "q=red+shoes%21&empty=&flag&name%5B%5D=x&bad=%zz&q=second";
  EXPECT_EQ(request.QueryParam("q"), "red shoes!");
  EXPECT_EQ(request.QueryParam("empty"), "");
  EXPECT_EQ(request.QueryParam("flag"), "");
  EXPECT_EQ(request.QueryParam("name[]"), "x");
  EXPECT_EQ(request.QueryParam("bad"), "");
  EXPECT_EQ(request.QueryParam("missing"), "");
}

TEST(Request, HeaderLookupIsCaseInsensitive) {
  Request request;
  request.headers = {{"content-type", "application/json"}};
  EXPECT_EQ(request.Header("Content-Type"), "application/json");
  EXPECT_EQ(request.Header("accept"), "");
}

TEST(Response, ErrorResponseCarriesFieldsAndRetryAfter) {
  Error error = ValidationError({{"title", "is required"}});
  Response invalid = ErrorResponse(error);
  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(boost::json::parse(invalid.body),
            boost::json::parse(R"({"error":{"code":"validation_failed",
              "message":"The request has invalid fields.",
              "fields":[{"field":"title","message":"is required"}]}})"));

  Error limited = MakeError(ErrorCode::kRateLimited, "Slow down.");
  limited.retry_after = std::chrono::seconds(0);
  Response response = ErrorResponse(limited);
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(response.Header("Retry-After"), "1");
  EXPECT_FALSE(boost::json::parse(response.body).at("error").as_object().contains("fields"));
}

TEST(Response, SetHeaderReplacesCaseInsensitively) {
  Response response = NoContent();
  EXPECT_EQ(response.status, 204);
  response.SetHeader("ETag", "\"1\"");
  response.SetHeader("etag", "\"2\"");
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.Header("ETag"), "\"2\"");
}

}  // namespace
}  // namespace market::http
