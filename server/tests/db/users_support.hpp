#pragma once

#include <string>
#include <string_view>

#include "db/db_support.hpp"
#include "services/accounts/auth_service.hpp"
#include "storage/pg/pool.hpp"
#include "storage/pg/users_repository.hpp"

namespace market {

// A user inserted straight into the database (no password hashing), for tests that need many
// buyers and sellers quickly. The name is `prefix` plus a random suffix.
inline services::Principal InsertTestUser(boost::asio::io_context& io, pg::Pool& pool,
                                          std::string_view prefix) {
  pg::PgUsersRepository users(pool);
  std::string name = std::string(prefix) + RandomSuffix();
  services::NewUser user{.username = name,
                         .email = name + "@example.com",
                         .display_name = name,
                         .password_hash = "unused"};
  auto tx = RunTask(io, pool.Begin());
  auto inserted = RunTask(io, users.Insert(*tx, user));
  RunTask(io, tx->Commit());
  return services::Principal{.user = inserted.value()};
}

}  // namespace market
