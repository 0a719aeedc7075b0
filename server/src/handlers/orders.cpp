#include "handlers/orders.hpp"

#include <boost/json.hpp>

#include "auth/tokens.hpp"
#include "handlers/json_io.hpp"

namespace market::handlers {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;
using services::AuthService;
using services::CheckoutService;

json::object AddressJson(const domain::ShippingAddress& a) {
  return json::object{{"recipient_name", a.recipient_name},
                      {"line1", a.line1},
                      {"line2", a.line2},
                      {"city", a.city},
                      {"region", a.region},
                      {"postal_code", a.postal_code},
                      {"country", a.country},
                      {"phone", a.phone}};
}

json::object OrderJson(const domain::Order& order) {
  json::array items;
  for (const auto& item : order.items) {
    json::value image = nullptr;
    if (item.image_key) image = "/media/" + *item.image_key;
    items.push_back(
        json::object{{"id", item.id},
                     {"listing_id", item.listing_id.value},
                     {"title", item.title},
                     {"seller", json::object{{"username", item.seller_username},
                                             {"display_name", item.seller_display_name}}},
                     {"unit_price_cents", item.unit_price_cents},
                     {"currency", item.currency},
                     {"quantity", item.quantity},
                     {"line_total_cents", item.unit_price_cents * item.quantity},
                     {"image_url", std::move(image)},
                     {"status", item.status}});
  }
  return json::object{{"id", order.id.value},
                      {"status", domain::OrderStatusName(order.status)},
                      {"currency", order.currency},
                      {"total_cents", order.total_cents},
                      {"shipping_address", AddressJson(order.shipping_address)},
                      {"items", std::move(items)},
                      {"expires_at", FormatTime(order.expires_at)},
                      {"created_at", FormatTime(order.created_at)}};
}

Result<domain::ShippingAddress> ReadAddress(const json::object& body) {
  const json::value* value = body.if_contains("shipping_address");
  if (value == nullptr) return ValidationError({{"shipping_address", "is required"}});
  if (!value->is_object()) return ValidationError({{"shipping_address", "must be an object"}});
  FieldReader fields(value->as_object());
  domain::ShippingAddress address{
      .recipient_name = fields.RequiredString("recipient_name", 400),
      .line1 = fields.RequiredString("line1", 800),
      .line2 = fields.OptionalString("line2", 800).value_or(""),
      .city = fields.RequiredString("city", 400),
      .region = fields.OptionalString("region", 400).value_or(""),
      .postal_code = fields.OptionalString("postal_code", 80).value_or(""),
      .country = fields.RequiredString("country", 16),
      .phone = fields.OptionalString("phone", 80).value_or("")};
  fields.RejectOthers(
      {"recipient_name", "line1", "line2", "city", "region", "postal_code", "country", "phone"});
  if (!fields.ok()) {
    Error error = fields.error();
    for (auto& field : error.fields) field.field = "shipping_address." + field.field;
    return error;
  }
  return address;
}

Task<Response> PlaceOrder(AuthService& auth, CheckoutService& checkout, Request& request) {
  auto buyer = co_await auth.Authenticate(request.Header("authorization"));
  if (!buyer.ok()) co_return AuthErrorResponse(buyer.error());
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  auto address = ReadAddress(*body);
  if (!address.ok()) co_return http::ErrorResponse(address.error());
  FieldReader fields(*body);
  fields.RejectOthers({"shipping_address"});
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());

  // The raw body identifies the request: a retry sends the same bytes.
  auto placed =
      co_await checkout.PlaceOrder(*buyer, std::string(request.Header("idempotency-key")),
                                   auth::Sha256(request.body), std::move(address).value());
  if (!placed.ok()) co_return http::ErrorResponse(placed.error());
  Response response = http::Json(201, OrderJson(placed->order));
  response.SetHeader("Location", "/api/v1/orders/" + std::to_string(placed->order.id.value));
  if (placed->replayed) response.SetHeader("Idempotent-Replayed", "true");
  co_return response;
}

Task<Response> GetOrder(AuthService& auth, CheckoutService& checkout, Request& request) {
  auto viewer = co_await auth.Authenticate(request.Header("authorization"));
  if (!viewer.ok()) co_return AuthErrorResponse(viewer.error());
  auto id = PathId<domain::OrderId>(request, "id");
  if (!id) co_return http::ErrorResponse(MakeError(ErrorCode::kNotFound, "No such order."));
  auto order = co_await checkout.Get(*viewer, *id);
  if (!order.ok()) co_return http::ErrorResponse(order.error());
  co_return http::Json(200, OrderJson(*order));
}

}  // namespace

void AddOrderRoutes(http::Router& router, AuthService& auth, CheckoutService& checkout) {
  using http::Method;
  router.Add(Method::kPost, "/api/v1/orders",
             [&auth, &checkout](Request& r) { return PlaceOrder(auth, checkout, r); });
  router.Add(Method::kGet, "/api/v1/orders/{id}",
             [&auth, &checkout](Request& r) { return GetOrder(auth, checkout, r); });
}

}  // namespace market::handlers
