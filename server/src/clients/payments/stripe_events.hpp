#pragma once

#include <string_view>

#include "common/result.hpp"
#include "services/payments/payment_provider.hpp"

namespace market::clients {

// Reads a Stripe-shaped event (Stripe's own, and the local gateway's, which copies them) whose
// signature was checked: {id, type, data: {object}}. payment_intent.succeeded and
// payment_intent.payment_failed must carry their payment intent (id, amount, currency, metadata
// order_id, last_payment_error.code); other types are kOther, read as far as they go. A body
// that is not such an event is kBadRequest.
Result<services::PaymentEvent> ParseStripeEvent(std::string_view body);

}  // namespace market::clients
