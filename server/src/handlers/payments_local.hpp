#pragma once

#include "clients/payments/local_gateway.hpp"
#include "http/router.hpp"

namespace market::handlers {

// The local payment gateway's own endpoint for the buyer's browser (no Authorization: the
// intent's client secret is the credential):
// POST /api/v1/payments/local/intents/{intent_id}/confirm
//   {client_secret, card_number, exp_month, exp_year, cvc} → 200 {id, status, amount_cents,
//   currency}; 402 card_declined | insufficient_funds; 404; 409; 422.
void AddLocalGatewayRoutes(http::Router& router, clients::LocalGateway& gateway);

}  // namespace market::handlers
