#pragma once

#include "http/router.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/listings/listings_service.hpp"

namespace market::handlers {

// /api/v1/categories, /api/v1/listings*, /api/v1/users/{username}/listings, /api/v1/me/listings.
void AddListingRoutes(http::Router& router, services::AuthService& auth,
                      services::ListingsService& listings);

// The paths that carry image uploads (POST /api/v1/listings/{id}/images): the server allows them
// the larger upload body limit.
bool IsImageUpload(std::string_view path);

}  // namespace market::handlers
