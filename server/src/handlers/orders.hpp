#pragma once

#include "http/router.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/orders/checkout_service.hpp"

namespace market::handlers {

// POST /api/v1/orders (checkout, Idempotency-Key required) and GET /api/v1/orders/{id}.
void AddOrderRoutes(http::Router& router, services::AuthService& auth,
                    services::CheckoutService& checkout);

}  // namespace market::handlers
