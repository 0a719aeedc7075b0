#include "handlers/cart.hpp"

#include <boost/json.hpp>

#include "handlers/json_io.hpp"
#include "handlers/listings_json.hpp"

namespace market::handlers {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;
using services::AuthService;
using services::CartService;

json::object LineJson(const domain::CartLine& line) {
  json::array problems;
  for (auto problem : line.problems()) problems.push_back(json::string(CartProblemName(problem)));
  json::value main_image = nullptr;
  if (line.main_image) main_image = ImageJson(*line.main_image);
  return json::object{{"listing_id", line.listing_id.value},
                      {"title", line.title},
                      {"seller", json::object{{"username", line.seller_username},
                                              {"display_name", line.seller_display_name}}},
                      {"main_image", std::move(main_image)},
                      {"unit_price_cents", line.unit_price_cents},
                      {"price_when_added_cents", line.price_when_added_cents},
                      {"currency", line.currency},
                      {"quantity", line.quantity},
                      {"available", line.available},
                      {"line_total_cents", line.line_total_cents()},
                      {"purchasable", line.purchasable()},
                      {"problems", std::move(problems)},
                      {"added_at", FormatTime(line.added_at)}};
}

Response CartResponse(const domain::Cart& cart, std::string_view currency) {
  json::array lines;
  for (const auto& line : cart.lines) lines.push_back(LineJson(line));
  return http::Json(200, json::object{{"lines", std::move(lines)},
                                      {"line_count", cart.lines.size()},
                                      {"total_cents", cart.total_cents()},
                                      {"currency", currency},
                                      {"purchasable", cart.purchasable()}});
}

Task<Response> GetCart(AuthService& auth, CartService& cart, std::string_view currency,
                       Request& request) {
  auto buyer = co_await auth.Authenticate(request.Header("authorization"));
  if (!buyer.ok()) co_return AuthErrorResponse(buyer.error());
  co_return CartResponse(co_await cart.Get(*buyer), currency);
}

Task<Response> PutItem(AuthService& auth, CartService& cart, std::string_view currency,
                       Request& request) {
  auto buyer = co_await auth.Authenticate(request.Header("authorization"));
  if (!buyer.ok()) co_return AuthErrorResponse(buyer.error());
  auto id = PathId<ListingId>(request, "listingId");
  if (!id) co_return http::ErrorResponse(MakeError(ErrorCode::kNotFound, "No such listing."));
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  FieldReader fields(*body);
  std::int64_t quantity = fields.RequiredInteger("quantity");
  fields.RejectOthers({"quantity"});
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());

  auto updated = co_await cart.SetItem(*buyer, *id, quantity);
  if (!updated.ok()) co_return http::ErrorResponse(updated.error());
  co_return CartResponse(*updated, currency);
}

Task<Response> RemoveItem(AuthService& auth, CartService& cart, std::string_view currency,
                          Request& request) {
  auto buyer = co_await auth.Authenticate(request.Header("authorization"));
  if (!buyer.ok()) co_return AuthErrorResponse(buyer.error());
  auto id = PathId<ListingId>(request, "listingId");
  if (!id) co_return http::ErrorResponse(MakeError(ErrorCode::kNotFound, "No such listing."));
  co_return CartResponse(co_await cart.RemoveItem(*buyer, *id), currency);
}

Task<Response> ClearCart(AuthService& auth, CartService& cart, Request& request) {
  auto buyer = co_await auth.Authenticate(request.Header("authorization"));
  if (!buyer.ok()) co_return AuthErrorResponse(buyer.error());
  co_await cart.Clear(*buyer);
  co_return http::NoContent();
}

}  // namespace

void AddCartRoutes(http::Router& router, AuthService& auth, CartService& cart,
                   std::string_view currency) {
  using http::Method;
  router.Add(Method::kGet, "/api/v1/cart",
             [&auth, &cart, currency](Request& r) { return GetCart(auth, cart, currency, r); });
  router.Add(Method::kDelete, "/api/v1/cart",
             [&auth, &cart](Request& r) { return ClearCart(auth, cart, r); });
  router.Add(Method::kPut, "/api/v1/cart/items/{listingId}",
             [&auth, &cart, currency](Request& r) { return PutItem(auth, cart, currency, r); });
  router.Add(Method::kDelete, "/api/v1/cart/items/{listingId}",
             [&auth, &cart, currency](Request& r) { return RemoveItem(auth, cart, currency, r); });
}

}  // namespace market::handlers
