#include "handlers/payments_local.hpp"

#include <boost/json.hpp>

#include "handlers/json_io.hpp"

namespace market::handlers {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

Result<clients::CardDetails> ReadCard(const json::object& body) {
  FieldReader fields(body);
  clients::CardDetails card{.client_secret = fields.RequiredString("client_secret", 200),
                            .card_number = fields.RequiredString("card_number", 40),
                            .exp_month = fields.RequiredInteger("exp_month"),
                            .exp_year = fields.RequiredInteger("exp_year"),
                            .cvc = fields.RequiredString("cvc", 8)};
  fields.RejectOthers({"client_secret", "card_number", "exp_month", "exp_year", "cvc"});
  if (!fields.ok()) return fields.error();
  return card;
}

Task<Response> Confirm(clients::LocalGateway& gateway, Request& request) {
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  auto card = ReadCard(*body);
  if (!card.ok()) co_return http::ErrorResponse(card.error());
  auto intent = co_await gateway.Confirm(request.PathParam("intent_id"), *card);
  if (!intent.ok()) co_return http::ErrorResponse(intent.error());
  json::object answer{{"id", intent->id},
                      {"status", intent->status},
                      {"amount_cents", intent->amount_cents},
                      {"currency", intent->currency}};
  co_return http::Json(200, answer);
}

}  // namespace

void AddLocalGatewayRoutes(http::Router& router, clients::LocalGateway& gateway) {
  router.Add(http::Method::kPost, "/api/v1/payments/local/intents/{intent_id}/confirm",
             [&gateway](Request& r) { return Confirm(gateway, r); });
}

}  // namespace market::handlers
