#pragma once

#include "http/router.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/listings/listings_service.hpp"

namespace market::handlers {

// /api/v1/categories, /api/v1/listings*, /api/v1/users/{username}/listings.
void AddListingRoutes(http::Router& router, services::AuthService& auth,
                      services::ListingsService& listings);

}  // namespace market::handlers
