#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "app/config.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/signer.hpp"
#include "clients/geocoding/google_geocoder.hpp"
#include "clients/geocoding/offline_geocoder.hpp"
#include "clients/geocoding/place_index.hpp"
#include "clients/media/file_media_store.hpp"
#include "clients/media/vips_image_processor.hpp"
#include "clients/payments/local_gateway.hpp"
#include "clients/payments/stripe_gateway.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "handlers/system.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "jobs/scheduler.hpp"
#include "jobs/worker.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/accounts/users_service.hpp"
#include "services/addresses/addresses_service.hpp"
#include "services/cart/cart_service.hpp"
#include "services/listings/listings_service.hpp"
#include "services/orders/checkout_service.hpp"
#include "services/orders/orders_service.hpp"
#include "services/payments/payments_service.hpp"
#include "storage/pg/addresses_repository.hpp"
#include "storage/pg/carts_repository.hpp"
#include "storage/pg/jobs_repository.hpp"
#include "storage/pg/listings_repository.hpp"
#include "storage/pg/orders_repository.hpp"
#include "storage/pg/pool.hpp"
#include "storage/pg/sessions_repository.hpp"
#include "storage/pg/users_repository.hpp"
#include "storage/redis/client.hpp"
#include "storage/redis/geocode_cache.hpp"
#include "storage/redis/rate_limiter.hpp"
#include "storage/redis/stock_gate.hpp"

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
  // Calls to payment and address providers' APIs (libcurl, blocking), off the io threads.
  boost::asio::thread_pool provider_pool;
  HttpMetrics metrics;
  // The sessions found live a moment ago, for all io threads.
  services::SessionCache sessions;
  // The web app, loaded by Serve (nothing when it is not built).
  std::optional<http::StaticFiles> web;
  // The offline geocoder's data, loaded once from config.geo_data_dir (empty when that is unset,
  // as for `marketplace routes`), and the geocoder over it.
  clients::PlaceIndex places;
  clients::OfflineGeocoder geocoder;
  // What became of the calls to Google (GEOCODER=google; they run on provider_pool).
  clients::GoogleMetrics google_metrics;
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

  // Background work on this shard's io thread when config.background_work (`marketplace dev`): a
  // job worker and the scheduler in-process, as `marketplace worker` and `marketplace scheduler`
  // would run them. Stop() asks the worker to finish its running jobs.
  void StartBackground(const Config& config);
  void StopBackground();
  // The in-process worker and scheduler and immediate webhook deliveries not finished yet.
  int background_running() const {
    return background_running_.load() + local_gateway_.deliveries_in_flight();
  }
  ~Shard();

 private:
  // First, so it is destroyed last: the pool's and Redis client's sockets and timers must go
  // while their io_context still exists. Serve() destroys a shard only once every connection
  // coroutine has finished, so no pending handler still refers to the pool.
  boost::asio::io_context io_{1};
  const Clock& clock_;
  pg::Pool pool_;
  redis::Client redis_;
  redis::RedisStockGate stock_gate_;
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
  // Where the local gateway hands the webhook deliveries that failed.
  pg::PgJobQueue jobs_queue_;
  clients::LocalGateway local_gateway_;
  // PAYMENT_PROVIDER=stripe only; else payments go through local_gateway_.
  std::unique_ptr<clients::StripeGateway> stripe_;
  services::PaymentsService payments_;
  redis::RedisGeocodeCache geocode_cache_;
  // GEOCODER=google only; otherwise the shared offline geocoder answers.
  std::unique_ptr<clients::GoogleGeocoder> google_;
  pg::PgAddressesRepository addresses_repository_;
  services::AddressesService addresses_;
  services::CheckoutService checkout_;
  services::OrdersService orders_;
  handlers::SystemProbes probes_;
  http::Router router_;

  std::atomic<int> background_running_{0};
  // `marketplace dev` only (see app.cpp).
  struct InProcessJobs;
  void Ended(const char* what, std::exception_ptr failure);
  std::unique_ptr<InProcessJobs> jobs_;
};

// The local gateway's default webhook URL: that of `serve` on `port` of config.http_host.
std::string OwnWebhookUrl(const Config& config, std::uint16_t port);
// The local gateway's settings, for `serve` and `worker` alike: it delivers to
// LOCAL_PAYMENTS_WEBHOOK_URL, else to `serve` on HTTP_HOST:HTTP_PORT (Serve sets the URL itself
// once it knows the port it got).
clients::LocalGatewayOptions LocalGatewayOptionsFrom(const Config& config);
// The Stripe adapter, its calls run on `pool`, when PAYMENT_PROVIDER=stripe; else null (the
// local gateway is the provider).
std::unique_ptr<clients::StripeGateway> StripeGatewayFrom(const Config& config,
                                                          boost::asio::thread_pool& pool);

// The worker's and the scheduler's settings, for `worker`, `scheduler` and `dev` alike.
jobs::WorkerOptions WorkerOptionsFrom(const Config& config);
jobs::SchedulerOptions SchedulerOptionsFrom(const Config& config);

// Serves HTTP on config.http_threads io threads until SIGINT or SIGTERM, then drains.
int Serve(const Config& config);

}  // namespace market::app
