#pragma once

#include "http/router.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/addresses/addresses_service.hpp"

namespace market::handlers {

// /api/v1/me/addresses[/{id}] (the address book) and /api/v1/geo/validate, /api/v1/geo/suggest
// (the address form's lookups).
void AddAddressRoutes(http::Router& router, services::AuthService& auth,
                      services::AddressesService& addresses);

}  // namespace market::handlers
