#pragma once

#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "app/config.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/signer.hpp"
#include "clients/media/file_media_store.hpp"
#include "clients/media/vips_image_processor.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "handlers/system.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/accounts/users_service.hpp"
#include "services/cart/cart_service.hpp"
#include "services/listings/listings_service.hpp"
#include "services/orders/checkout_service.hpp"
#include "storage/pg/carts_repository.hpp"
#include "storage/pg/listings_repository.hpp"
#include "storage/pg/orders_repository.hpp"
#include "storage/pg/pool.hpp"
#include "storage/pg/sessions_repository.hpp"
#include "storage/pg/users_repository.hpp"
#include "storage/redis/client.hpp"
#include "storage/redis/rate_limiter.hpp"

namespace market::app {

// What all io threads share: immutable after construction, or thread-safe.
struct Shared {
  explicit Shared(const Config& config);

  const Config& config;
  SystemClock clock;
  auth::JwtCodec jwt;
  auth::PasswordHasher hasher;
  boost::asio::thread_pool hash_pool;
  auth::Signer cursors;
  clients::VipsImageProcessor images;
  clients::FileMediaStore media;
  // Image decoding and media file I/O: blocking work kept off the io threads.
  boost::asio::thread_pool media_pool;
  HttpMetrics metrics;
};

// Everything one io thread owns (shared-nothing): its io_context, its PostgreSQL pool and Redis
// connection, the repositories and services over them, and its HTTP server. Building a shard
// opens no connection.
class Shard {
 public:
  Shard(const Config& config, Shared& shared);

  boost::asio::io_context& io() { return io_; }
  const http::Router& router() const { return router_; }
  pg::Pool& pool() { return pool_; }

 private:
  // First, so it is destroyed last: the pool's and Redis client's sockets and timers must go
  // while their io_context still exists. Serve() destroys a shard only once every connection
  // coroutine has finished, so no pending handler still refers to the pool.
  boost::asio::io_context io_{1};
  pg::Pool pool_;
  redis::Client redis_;
  pg::PgUsersRepository users_repository_;
  pg::PgSessionsRepository sessions_repository_;
  redis::RedisRateLimiter rate_limiter_;
  services::AuthService auth_;
  services::UsersService users_;
  pg::PgListingsRepository listings_repository_;
  services::ListingsService listings_;
  pg::PgCartsRepository carts_repository_;
  services::CartService cart_;
  pg::PgOrdersRepository orders_repository_;
  services::CheckoutService checkout_;
  handlers::SystemProbes probes_;
  http::Router router_;
};

// Serves HTTP on config.http_threads io threads until SIGINT or SIGTERM, then drains.
int Serve(const Config& config);

}  // namespace market::app
