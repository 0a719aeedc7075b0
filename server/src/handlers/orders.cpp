#include "handlers/orders.hpp"

#include <boost/json.hpp>
#include <variant>

#include "auth/tokens.hpp"
#include "handlers/addresses_json.hpp"
#include "handlers/json_io.hpp"

namespace market::handlers {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;
using services::AuthService;
using services::CheckoutService;
using services::OrdersService;
using services::PaymentsService;

json::value OptTime(const std::optional<TimePoint>& time) {
  if (!time) return nullptr;
  return json::value(FormatTime(*time));
}

json::value OptText(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  return json::value(*text);
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
                     {"status", domain::ItemStatusName(item.status)},
                     {"carrier", OptText(item.carrier)},
                     {"tracking_code", OptText(item.tracking_code)},
                     {"shipped_at", OptTime(item.shipped_at)},
                     {"delivered_at", OptTime(item.delivered_at)}});
  }
  json::array refunds;
  for (const auto& refund : order.refunds) {
    json::value item_id = nullptr;
    if (refund.item_id) item_id = *refund.item_id;
    refunds.push_back(json::object{{"amount_cents", refund.amount_cents},
                                   {"currency", refund.currency},
                                   {"reason", refund.reason},
                                   {"status", refund.status},
                                   {"item_id", item_id},
                                   {"created_at", FormatTime(refund.created_at)}});
  }
  json::array events;
  for (const auto& event : order.events) {
    json::value item = nullptr;
    if (event.item_id) item = *event.item_id;
    events.push_back(json::object{{"type", event.type},
                                  {"item_id", std::move(item)},
                                  {"actor", domain::ActorName(event.actor)},
                                  {"created_at", FormatTime(event.at)}});
  }
  return json::object{{"id", order.id.value},
                      {"status", domain::OrderStatusName(order.Status())},
                      {"currency", order.currency},
                      {"total_cents", order.total_cents},
                      {"buyer", json::object{{"username", order.buyer_username},
                                             {"display_name", order.buyer_display_name}}},
                      {"shipping_address", AddressJson(order.shipping_address)},
                      {"items", std::move(items)},
                      {"payment", json::object{{"provider", OptText(order.payment_provider)},
                                               {"intent_id", OptText(order.payment_intent_id)},
                                               {"paid_at", OptTime(order.paid_at)}}},
                      {"refunds", std::move(refunds)},
                      {"events", std::move(events)},
                      {"expires_at", FormatTime(order.expires_at)},
                      {"created_at", FormatTime(order.created_at)},
                      {"updated_at", FormatTime(order.updated_at)}};
}

Response OrderResponse(const Result<domain::Order>& order) {
  if (!order.ok()) return http::ErrorResponse(order.error());
  return http::Json(200, OrderJson(*order));
}

// `item_ids`: an array of whole positive numbers. Absent: nullopt, or an error when required.
Result<std::vector<std::int64_t>> ReadItemIds(const json::object& body, bool required) {
  std::vector<std::int64_t> ids;
  const json::value* value = body.if_contains("item_ids");
  if (value == nullptr) {
    if (required) return ValidationError({{"item_ids", "is required"}});
    return ids;
  }
  Error bad = ValidationError({{"item_ids", "must be an array of item ids"}});
  if (!value->is_array()) return bad;
  for (const auto& element : value->as_array()) {
    if (!element.is_int64() && !element.is_uint64()) return bad;
    auto id = element.to_number<std::int64_t>();
    if (id <= 0) return bad;
    ids.push_back(id);
  }
  return ids;
}

Result<domain::ShippingAddress> ReadInlineAddress(const json::value& value) {
  if (!value.is_object()) return ValidationError({{"shipping_address", "must be an object"}});
  FieldReader fields(value.as_object());
  domain::ShippingAddress address = ReadAddress(fields);
  RejectNonAddressFields(fields);
  if (!fields.ok()) return WithFieldPrefix(fields.error(), "shipping_address.");
  return address;
}

Task<Response> PlaceOrder(AuthService& auth, CheckoutService& checkout, Request& request) {
  auto buyer = co_await auth.Authenticate(request.Header("authorization"));
  if (!buyer.ok()) co_return AuthErrorResponse(buyer.error());
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  // One of the two: a saved address by id, or one written out.
  const json::value* inline_address = body->if_contains("shipping_address");
  FieldReader fields(*body);
  std::optional<std::int64_t> address_id = fields.OptionalInteger("address_id");
  fields.RejectOthers({"shipping_address", "address_id"});
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());
  if (inline_address == nullptr && !address_id)
    co_return http::ErrorResponse(ValidationError({{"shipping_address", "is required"}}));
  if (inline_address != nullptr && address_id)
    co_return http::ErrorResponse(
        ValidationError({{"address_id", "cannot be given with shipping_address"}}));

  // The raw body identifies the request: a retry sends the same bytes.
  std::string key(request.Header("idempotency-key"));
  std::string request_hash = auth::Sha256(request.body);
  Result<services::PlacedOrder> placed = MakeError(ErrorCode::kInternal, "not placed");
  if (inline_address != nullptr) {
    auto address = ReadInlineAddress(*inline_address);
    if (!address.ok()) co_return http::ErrorResponse(address.error());
    placed = co_await checkout.PlaceOrder(*buyer, std::move(key), std::move(request_hash),
                                          std::move(address).value(), request.remote_ip);
  } else {
    placed = co_await checkout.PlaceOrder(*buyer, std::move(key), std::move(request_hash),
                                          domain::AddressId{*address_id});
  }
  if (!placed.ok()) co_return http::ErrorResponse(placed.error());
  Response response = http::Json(201, OrderJson(placed->order));
  response.SetHeader("Location", "/api/v1/orders/" + std::to_string(placed->order.id.value));
  if (placed->replayed) response.SetHeader("Idempotent-Replayed", "true");
  co_return response;
}

Task<Response> GetOrder(AuthService& auth, OrdersService& orders, Request& request) {
  auto viewer = co_await auth.Authenticate(request.Header("authorization"));
  if (!viewer.ok()) co_return AuthErrorResponse(viewer.error());
  auto id = PathId<domain::OrderId>(request, "id");
  if (!id) co_return http::ErrorResponse(MakeError(ErrorCode::kNotFound, "No such order."));
  auto order = co_await orders.Get(*viewer, *id);
  co_return OrderResponse(order);
}

Result<services::OrderListQuery> ReadListQuery(const Request& request) {
  services::OrderListQuery query;
  std::string role = request.QueryParam("role");
  if (role == "seller") {
    query.as_seller = true;
  } else if (!role.empty() && role != "buyer") {
    return MakeError(ErrorCode::kBadRequest, "role must be buyer or seller.");
  }
  if (std::string status = request.QueryParam("status"); !status.empty()) {
    query.status = domain::ParseOrderStatus(status);
    if (!query.status)
      return MakeError(ErrorCode::kBadRequest,
                       "status must be one of pending_payment, paid, completed, cancelled, "
                       "expired.");
  }
  if (std::string limit = request.QueryParam("limit"); !limit.empty()) {
    auto value = WholeNumber(limit);
    if (!value || *value < 1 || *value > 100)
      return MakeError(ErrorCode::kBadRequest, "limit must be a whole number from 1 to 100.");
    query.limit = static_cast<int>(*value);
  }
  if (std::string cursor = request.QueryParam("cursor"); !cursor.empty()) {
    auto value = WholeNumber(cursor);
    if (!value || *value <= 0)
      return MakeError(ErrorCode::kBadRequest,
                       "cursor must be the next_cursor of the previous page, unchanged.");
    query.before = *value;
  }
  return query;
}

Task<Response> ListOrders(AuthService& auth, OrdersService& orders, Request& request) {
  auto viewer = co_await auth.Authenticate(request.Header("authorization"));
  if (!viewer.ok()) co_return AuthErrorResponse(viewer.error());
  auto query = ReadListQuery(request);
  if (!query.ok()) co_return http::ErrorResponse(query.error());
  services::OrderPage page = co_await orders.List(*viewer, *query);
  json::array items;
  for (const auto& order : page.items) items.push_back(OrderJson(order));
  json::value next = nullptr;
  if (page.next_before) next = std::to_string(*page.next_before);
  co_return http::Json(200, json::object{{"items", std::move(items)}, {"next_cursor", next}});
}

Task<Response> CancelOrder(AuthService& auth, OrdersService& orders, Request& request) {
  auto buyer = co_await auth.Authenticate(request.Header("authorization"));
  if (!buyer.ok()) co_return AuthErrorResponse(buyer.error());
  auto id = PathId<domain::OrderId>(request, "id");
  if (!id) co_return http::ErrorResponse(MakeError(ErrorCode::kNotFound, "No such order."));
  auto order = co_await orders.Cancel(*buyer, *id);
  co_return OrderResponse(order);
}

// What a seller's action on some items of an order starts with: who asks, about which order, and
// the body with its `item_ids`; or the response refusing it.
struct SellerItemsRequest {
  services::Principal seller;
  domain::OrderId id;
  json::object body;
  std::vector<std::int64_t> item_ids;
};

Task<std::variant<SellerItemsRequest, Response>> ReadSellerItems(AuthService& auth,
                                                                 Request& request) {
  auto seller = co_await auth.Authenticate(request.Header("authorization"));
  if (!seller.ok()) co_return AuthErrorResponse(seller.error());
  auto id = PathId<domain::OrderId>(request, "id");
  if (!id) co_return http::ErrorResponse(MakeError(ErrorCode::kNotFound, "No such order."));
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  auto item_ids = ReadItemIds(*body, true);
  if (!item_ids.ok()) co_return http::ErrorResponse(item_ids.error());
  co_return SellerItemsRequest{.seller = std::move(*seller),
                               .id = *id,
                               .body = std::move(*body),
                               .item_ids = std::move(item_ids).value()};
}

Task<Response> ShipOrder(AuthService& auth, OrdersService& orders, Request& request) {
  auto read = co_await ReadSellerItems(auth, request);
  if (auto* refused = std::get_if<Response>(&read)) co_return std::move(*refused);
  auto& asked = std::get<SellerItemsRequest>(read);
  FieldReader fields(asked.body);
  std::string carrier = fields.RequiredString("carrier", 160);
  std::string tracking_code = fields.RequiredString("tracking_code", 160);
  fields.RejectOthers({"item_ids", "carrier", "tracking_code"});
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());
  auto order = co_await orders.Ship(asked.seller, asked.id, std::move(asked.item_ids),
                                    std::move(carrier), std::move(tracking_code));
  co_return OrderResponse(order);
}

Task<Response> RefundItems(AuthService& auth, OrdersService& orders, Request& request) {
  auto read = co_await ReadSellerItems(auth, request);
  if (auto* refused = std::get_if<Response>(&read)) co_return std::move(*refused);
  auto& asked = std::get<SellerItemsRequest>(read);
  FieldReader fields(asked.body);
  std::string reason = fields.OptionalString("reason", 800).value_or("");
  fields.RejectOthers({"item_ids", "reason"});
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());
  auto order = co_await orders.RefundItems(asked.seller, asked.id, std::move(asked.item_ids),
                                           std::move(reason));
  co_return OrderResponse(order);
}

Task<Response> DeliverOrder(AuthService& auth, OrdersService& orders, Request& request) {
  auto caller = co_await auth.Authenticate(request.Header("authorization"));
  if (!caller.ok()) co_return AuthErrorResponse(caller.error());
  auto id = PathId<domain::OrderId>(request, "id");
  if (!id) co_return http::ErrorResponse(MakeError(ErrorCode::kNotFound, "No such order."));
  std::vector<std::int64_t> item_ids;
  if (!request.body.empty()) {
    auto body = ParseJsonObject(request);
    if (!body.ok()) co_return http::ErrorResponse(body.error());
    auto ids = ReadItemIds(*body, false);
    if (!ids.ok()) co_return http::ErrorResponse(ids.error());
    FieldReader fields(*body);
    fields.RejectOthers({"item_ids"});
    if (!fields.ok()) co_return http::ErrorResponse(fields.error());
    item_ids = std::move(ids).value();
  }
  auto order = co_await orders.Deliver(*caller, *id, std::move(item_ids));
  co_return OrderResponse(order);
}

Task<Response> StartPayment(AuthService& auth, PaymentsService& payments, Request& request) {
  auto buyer = co_await auth.Authenticate(request.Header("authorization"));
  if (!buyer.ok()) co_return AuthErrorResponse(buyer.error());
  auto id = PathId<domain::OrderId>(request, "id");
  if (!id) co_return http::ErrorResponse(MakeError(ErrorCode::kNotFound, "No such order."));
  auto session = co_await payments.StartPayment(*buyer, *id);
  if (!session.ok()) co_return http::ErrorResponse(session.error());
  json::object body{{"provider", session->provider},
                    {"intent_id", session->intent.id},
                    {"client_secret", session->intent.client_secret},
                    {"amount_cents", session->intent.amount_cents},
                    {"currency", session->intent.currency}};
  if (const std::string_view key = payments.provider().publishable_key(); !key.empty())
    body["publishable_key"] = key;
  co_return http::Json(200, std::move(body));
}

// The provider's webhook. The signature is checked over the raw body before anything in it is
// read; any event the provider should not send again is acknowledged with 200.
Task<Response> ReceiveWebhook(PaymentsService& payments, Request& request) {
  std::string_view signature = request.Header(payments.provider().signature_header());
  auto handled = co_await payments.HandleWebhook(signature, request.body);
  if (!handled.ok()) co_return http::ErrorResponse(handled.error());
  co_return http::Json(200, json::object{{"received", true}});
}

}  // namespace

void AddOrderRoutes(http::Router& router, AuthService& auth, CheckoutService& checkout,
                    OrdersService& orders, PaymentsService& payments) {
  using http::Method;
  router.Add(Method::kPost, "/api/v1/orders",
             [&auth, &checkout](Request& r) { return PlaceOrder(auth, checkout, r); });
  router.Add(Method::kGet, "/api/v1/orders",
             [&auth, &orders](Request& r) { return ListOrders(auth, orders, r); });
  router.Add(Method::kGet, "/api/v1/orders/{id}",
             [&auth, &orders](Request& r) { return GetOrder(auth, orders, r); });
  router.Add(Method::kPost, "/api/v1/orders/{id}/cancel",
             [&auth, &orders](Request& r) { return CancelOrder(auth, orders, r); });
  router.Add(Method::kPost, "/api/v1/orders/{id}/ship",
             [&auth, &orders](Request& r) { return ShipOrder(auth, orders, r); });
  router.Add(Method::kPost, "/api/v1/orders/{id}/refund",
             [&auth, &orders](Request& r) { return RefundItems(auth, orders, r); });
  router.Add(Method::kPost, "/api/v1/orders/{id}/deliver",
             [&auth, &orders](Request& r) { return DeliverOrder(auth, orders, r); });
  router.Add(Method::kPost, "/api/v1/orders/{id}/payment",
             [&auth, &payments](Request& r) { return StartPayment(auth, payments, r); });
  router.Add(Method::kPost, "/api/v1/payments/webhooks/" + std::string(payments.provider().name()),
             [&payments](Request& r) { return ReceiveWebhook(payments, r); });
}

}  // namespace market::handlers
