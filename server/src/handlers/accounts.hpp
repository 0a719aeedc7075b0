#pragma once

#include "http/router.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/accounts/users_service.hpp"

namespace market::handlers {

// /api/v1/auth/*, /api/v1/me*, /api/v1/users/{username}.
void AddAccountRoutes(http::Router& router, services::AuthService& auth,
                      services::UsersService& users);

}  // namespace market::handlers
