#include "app/app.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <functional>
#include <thread>

#include "app/openapi_spec.hpp"
#include "common/unavailable.hpp"
#include "handlers/accounts.hpp"
#include "handlers/addresses.hpp"
#include "handlers/cart.hpp"
#include "handlers/listings.hpp"
#include "handlers/media.hpp"
#include "handlers/orders.hpp"
#include "handlers/payments_local.hpp"
#include "jobs/builtin_handlers.hpp"
#include "jobs/deliveries.hpp"
#include "jobs/maintenance.hpp"
#include "jobs/metrics.hpp"
#include "jobs/schedule.hpp"
#include "jobs/scheduler.hpp"
#include "jobs/worker.hpp"
#include "storage/pg/jobs_repository.hpp"
#include "storage/pg/listener.hpp"
#include "storage/pg/maintenance_repository.hpp"
#include "storage/pg/scheduler_repository.hpp"

namespace market::app {
namespace {

constexpr std::chrono::seconds kDrainDeadline{10};

services::AuthOptions AuthOptionsFrom(const Config& config) {
  return services::AuthOptions{.access_ttl = config.access_ttl,
                               .refresh_ttl = config.refresh_ttl,
                               .rate_limits = config.rate_limits,
                               .per_ip = config.rate_limit_auth_ip,
                               .per_account = config.rate_limit_auth_account};
}

std::unique_ptr<clients::GoogleGeocoder> GoogleGeocoderFrom(const Config& config, Shared& shared,
                                                            services::GeocodeCache& cache) {
  if (config.geocoder != "google") return nullptr;
  return std::make_unique<clients::GoogleGeocoder>(
      clients::GoogleOptions{.api_key = config.google_maps_api_key,
                             .base_url = config.google_maps_base_url,
                             .timeout = config.google_maps_timeout},
      shared.provider_pool, cache, shared.geocoder, shared.places, shared.google_metrics);
}

pg::PoolOptions PoolOptionsFrom(const Config& config) {
  return pg::PoolOptions{.conninfo = config.database_url, .max_size = config.database_pool_size};
}

// Times each answered request. A lost PostgreSQL connection becomes ServiceUnavailable here,
// the one place that knows both the storage and the HTTP sides, so that the server answers 503
// rather than 500; a handler that threw is answered (and logged) by the server.
Task<http::Response> Timed(HttpMetrics& metrics, std::size_t route, const http::Handler& handler,
                           http::Request& request) {
  auto start = std::chrono::steady_clock::now();
  std::optional<http::Response> answered;
  std::string lost;
  try {
    answered.emplace(co_await handler(request));
  } catch (const pg::PgError& error) {
    if (!error.connection_lost()) throw;
    lost = error.what();
  }
  if (!answered) throw ServiceUnavailable("PostgreSQL unavailable: " + lost);
  http::Response response = std::move(*answered);
  metrics.Observe(route, response.status, std::chrono::steady_clock::now() - start);
  co_return response;
}

// For /readyz: whether `ping` succeeds, logging why not.
Task<bool> Probe(std::string_view name, Task<void> ping) {
  try {
    co_await std::move(ping);
    co_return true;
  } catch (const std::exception& e) {
    spdlog::warn("readiness: {} unavailable: {}", name, e.what());
    co_return false;
  }
}

}  // namespace

Shared::Shared(const Config& config)
    : config(config),
      jwt(config.jwt_secret, config.jwt_issuer),
      hash_pool(config.password_hash_threads),
      cursors(config.jwt_secret, "listing cursor"),
      media(config.media_dir),
      media_pool(config.media_threads),
      provider_pool(4),
      sessions(config.session_cache_ttl),
      places(config.geo_data_dir.empty() ? clients::PlaceIndex()
                                         : clients::PlaceIndex::LoadFiles(config.geo_data_dir)),
      geocoder(places) {}

Shard::Shard(const Config& config, Shared& shared)
    : clock_(shared.clock),
      pool_(io_.get_executor(), PoolOptionsFrom(config)),
      redis_(io_.get_executor(), redis::ParseRedisUrl(config.redis_url)),
      stock_gate_(redis_),
      users_repository_(pool_),
      sessions_repository_(pool_),
      rate_limiter_(redis_),
      auth_(pool_, users_repository_, sessions_repository_, rate_limiter_, shared.jwt,
            shared.hasher, shared.hash_pool, shared.clock, AuthOptionsFrom(config),
            &shared.sessions),
      users_(pool_, users_repository_, sessions_repository_, auth_),
      listings_repository_(pool_),
      listings_(listings_repository_, users_repository_, shared.images, shared.media,
                shared.media_pool, shared.cursors, stock_gate_,
                services::ListingsOptions{.currency = config.currency}),
      carts_repository_(pool_),
      cart_(carts_repository_, listings_repository_),
      orders_repository_(pool_),
      jobs_queue_(pool_),
      local_gateway_(pool_, jobs_queue_, LocalGatewayOptionsFrom(config), shared.clock),
      stripe_(StripeGatewayFrom(config, shared.provider_pool)),
      payments_(pool_, orders_repository_, stock_gate_,
                stripe_ ? static_cast<services::PaymentProvider&>(*stripe_) : local_gateway_,
                shared.clock),
      geocode_cache_(redis_),
      google_(GoogleGeocoderFrom(config, shared, geocode_cache_)),
      addresses_repository_(pool_),
      addresses_(addresses_repository_,
                 google_ ? static_cast<services::Geocoder&>(*google_) : shared.geocoder,
                 rate_limiter_, shared.clock,
                 services::AddressesOptions{.rate_limits = config.rate_limits,
                                            .geo_per_user = config.rate_limit_geo_user,
                                            .geo_per_ip = config.rate_limit_geo_ip}),
      checkout_(pool_, orders_repository_, stock_gate_, shared.clock,
                services::CheckoutOptions{.payment_ttl = config.order_payment_ttl,
                                          .max_pending_orders = config.max_pending_orders},
                &addresses_),
      orders_(pool_, orders_repository_, stock_gate_, payments_, shared.clock,
              services::OrdersOptions{.seller_delivery_after = config.seller_delivery_after}) {
  probes_.postgres = [this] { return Probe("PostgreSQL", pool_.Ping()); };
  probes_.redis = [this] { return Probe("Redis", redis_.Ping()); };
  HttpMetrics& metrics = shared.metrics;
  const clients::GoogleMetrics* google = google_ ? &shared.google_metrics : nullptr;
  probes_.metrics = [&metrics, google] {
    return google ? metrics.Render() + google->Render() : metrics.Render();
  };
  probes_.openapi_yaml = OpenApiYaml();

  handlers::AddSystemRoutes(router_, probes_);
  handlers::AddAccountRoutes(router_, auth_, users_);
  handlers::AddListingRoutes(router_, auth_, listings_);
  handlers::AddMediaRoutes(router_, shared.media, shared.media_pool);
  handlers::AddCartRoutes(router_, auth_, cart_, listings_.options().currency);
  handlers::AddAddressRoutes(router_, auth_, addresses_);
  handlers::AddOrderRoutes(router_, auth_, checkout_, orders_, payments_);
  if (!stripe_) handlers::AddLocalGatewayRoutes(router_, local_gateway_);
  if (shared.web) {
    const http::StaticFiles& web = *shared.web;
    router_.SetFallback(
        [&web](http::Request& request) -> Task<http::Response> { co_return web.Serve(request); });
  }
  router_.WrapHandlers([&metrics](const http::Route& route, http::Handler handler) {
    std::size_t index = metrics.AddRoute(http::MethodName(route.method), route.pattern);
    return http::Handler([&metrics, index, handler = std::move(handler)](http::Request& request) {
      return Timed(metrics, index, handler, request);
    });
  });
}

std::string OwnWebhookUrl(const Config& config, std::uint16_t port) {
  const std::string host = config.http_host == "0.0.0.0" ? "127.0.0.1" : config.http_host;
  return "http://" + host + ":" + std::to_string(port) + "/api/v1/payments/webhooks/local";
}

clients::LocalGatewayOptions LocalGatewayOptionsFrom(const Config& config) {
  std::string url = config.local_webhook_url;
  if (url.empty() && config.http_port != 0) url = OwnWebhookUrl(config, config.http_port);
  return clients::LocalGatewayOptions{.webhook_url = std::move(url),
                                      .webhook_secret = config.local_webhook_secret};
}

std::unique_ptr<clients::StripeGateway> StripeGatewayFrom(const Config& config,
                                                          boost::asio::thread_pool& pool) {
  if (config.payment_provider != "stripe") return nullptr;
  return std::make_unique<clients::StripeGateway>(
      clients::StripeOptions{.secret_key = config.stripe_secret_key,
                             .publishable_key = config.stripe_publishable_key,
                             .webhook_secrets = config.stripe_webhook_secrets,
                             .api_version = config.stripe_api_version,
                             .api_base = config.stripe_api_base},
      pool);
}

jobs::WorkerOptions WorkerOptionsFrom(const Config& config) {
  return jobs::WorkerOptions{
      .concurrency = config.worker_concurrency,
      .poll_interval = config.worker_poll_interval,
      .lease = config.worker_lease,
      .backoff = BackoffPolicy{.base = config.job_retry_base, .max = config.job_retry_max}};
}

jobs::SchedulerOptions SchedulerOptionsFrom(const Config& config) {
  return jobs::SchedulerOptions{.tick = config.scheduler_tick,
                                .standby_retry = config.scheduler_standby_retry};
}

// The job worker and the scheduler of `marketplace dev`, on the first shard's io thread, as
// `marketplace worker` and `marketplace scheduler` run them: the maintenance jobs and webhook
// deliveries run on that shard's services; the queue has a pool of its own, so that running jobs
// never take the HTTP requests' connections, and the scheduler its leader session (another
// process's scheduler may lead instead: this one then stands by).
struct Shard::InProcessJobs {
  InProcessJobs(const Config& config, Shard& shard)
      : pool(shard.io_.get_executor(),
             pg::PoolOptions{
                 .conninfo = config.database_url,
                 .max_size = static_cast<std::size_t>(config.worker_concurrency) * 2 + 2}),
        queue(pool),
        repository(shard.pool_),
        maintenance(shard.orders_, shard.payments_, shard.orders_repository_, shard.stock_gate_,
                    repository, maintenance_metrics),
        worker(shard.io_.get_executor(), queue, Handlers(maintenance, shard.local_gateway_),
               WorkerOptionsFrom(config), metrics),
        store(shard.io_.get_executor(), config.database_url),
        scheduled_queue(store.pool()),
        scheduler(shard.io_.get_executor(), store, scheduled_queue, jobs::MarketplaceSchedule(),
                  SchedulerOptionsFrom(config), shard.clock_) {
    if (config.worker_listen) {
      listener.emplace(config.database_url, std::string(pg::kJobsChannel),
                       [this](std::string_view) { worker.Wake(); });
    }
  }

  const jobs::HandlerRegistry& Handlers(jobs::Maintenance& jobs,
                                        services::WebhookDeliveries& deliveries) {
    jobs::AddBuiltinHandlers(handlers);
    jobs::AddMaintenanceHandlers(handlers, jobs);
    jobs::AddDeliveryHandlers(handlers, deliveries, maintenance_metrics);
    return handlers;
  }

  pg::Pool pool;
  pg::PgJobQueue queue;
  pg::PgMaintenanceRepository repository;
  jobs::MaintenanceMetrics maintenance_metrics;
  jobs::Maintenance maintenance;
  jobs::HandlerRegistry handlers;
  jobs::JobMetrics metrics;
  jobs::Worker worker;
  pg::PgSchedulerStore store;
  pg::PgJobQueue scheduled_queue;
  jobs::Scheduler scheduler;
  std::optional<pg::Listener> listener;
};

Shard::~Shard() = default;

void Shard::StartBackground(const Config& config) {
  if (config.background_work) {
    jobs_ = std::make_unique<InProcessJobs>(config, *this);
    if (jobs_->listener) jobs_->listener->Start();
    background_running_ += 2;
    boost::asio::co_spawn(io_, jobs_->worker.Run(),
                          [this](std::exception_ptr failure) { Ended("worker", failure); });
    boost::asio::co_spawn(io_, jobs_->scheduler.Run(),
                          [this](std::exception_ptr failure) { Ended("scheduler", failure); });
  }
}

void Shard::Ended(const char* what, std::exception_ptr failure) {
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      spdlog::error("in-process {} stopped: {}", what, e.what());
    }
  }
  --background_running_;
}

void Shard::StopBackground() {
  if (jobs_) {
    if (jobs_->listener) jobs_->listener->Stop();
    jobs_->worker.Stop();
    jobs_->scheduler.Stop();
  }
}

int Serve(const Config& given) {
  Config config = given;
  std::uint16_t port = http::ResolvePort(config.http_host, config.http_port);
  if (config.local_webhook_url.empty()) config.local_webhook_url = OwnWebhookUrl(config, port);
  Shared shared(config);
  shared.web = http::StaticFiles::Load(config.web_dir);
  if (shared.web) {
    spdlog::info("serving the web app from {} ({} files)", config.web_dir,
                 shared.web->file_count());
  } else {
    spdlog::info("no web app in {} (build it with `npm run build` in web/)", config.web_dir);
  }
  std::vector<std::unique_ptr<Shard>> shards;
  std::vector<std::unique_ptr<http::Server>> servers;
  http::ServerOptions options{.address = config.http_host,
                              .port = port,
                              .body_limit = config.http_body_limit,
                              .is_upload = handlers::IsImageUpload,
                              .cors_origins = config.cors_origins,
                              .access_log = config.access_log};
  for (unsigned i = 0; i < config.http_threads; ++i) {
    auto& shard = shards.emplace_back(std::make_unique<Shard>(config, shared));
    servers.push_back(std::make_unique<http::Server>(shard->io(), shard->router(), options));
    servers.back()->Start();
  }

  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<Guard> guards;
  std::vector<std::thread> threads;
  // Background work runs on the first io thread only.
  shards.front()->StartBackground(config);
  for (auto& shard : shards) {
    guards.emplace_back(shard->io().get_executor());
    threads.emplace_back([&io = shard->io()] { io.run(); });
  }
  spdlog::info("serving on http://{}:{} with {} io threads", config.http_host, port,
               config.http_threads);

  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int signal) {
    spdlog::info("signal {}: draining", signal);
  });
  signals_io.run();

  for (auto& server : servers) server->BeginDrain();
  auto deadline = std::chrono::steady_clock::now() + kDrainDeadline;
  auto open = [&servers] {
    std::size_t n = 0;
    for (auto& server : servers) n += server->open_connections();
    return n;
  };
  while (open() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (std::size_t still_open = open(); still_open > 0) {
    // Their coroutines may hold pooled connections; tearing the shards down under them would
    // touch freed pools. PostgreSQL rolls back whatever they had open when the sockets close.
    spdlog::error("drain deadline passed with {} connections open; exiting now", still_open);
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }
  for (auto& shard : shards) shard->StopBackground();
  auto busy = [&shards] {
    int n = 0;
    for (auto& shard : shards) n += shard->background_running();
    return n;
  };
  while (busy() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& guard : guards) guard.reset();
  for (auto& shard : shards) shard->io().stop();
  for (auto& thread : threads) thread.join();
  servers.clear();
  shards.clear();
  spdlog::info("stopped");
  return 0;
}

}  // namespace market::app
