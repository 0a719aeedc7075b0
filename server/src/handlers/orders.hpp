#pragma once

#include "http/router.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/orders/checkout_service.hpp"
#include "services/orders/orders_service.hpp"
#include "services/payments/payments_service.hpp"

namespace market::handlers {

// Checkout (POST /api/v1/orders, Idempotency-Key required), the buyer's and seller's views and
// lists of orders, their transitions (cancel, ship, deliver), starting a payment, and the
// payment provider's webhook.
void AddOrderRoutes(http::Router& router, services::AuthService& auth,
                    services::CheckoutService& checkout, services::OrdersService& orders,
                    services::PaymentsService& payments);

}  // namespace market::handlers
