#pragma once

#include "http/router.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/cart/cart_service.hpp"

namespace market::handlers {

// /api/v1/cart and /api/v1/cart/items/{listingId}. `currency` (the platform's, for the total of
// an empty cart) must outlive the router.
void AddCartRoutes(http::Router& router, services::AuthService& auth, services::CartService& cart,
                   std::string_view currency);

}  // namespace market::handlers
