#include "app/cli.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "app/app.hpp"
#include "app/config.hpp"
#include "app/seed_demo.hpp"
#include "clients/payments/local_gateway.hpp"
#include "http/response.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "jobs/builtin_handlers.hpp"
#include "jobs/deliveries.hpp"
#include "jobs/maintenance.hpp"
#include "jobs/schedule.hpp"
#include "jobs/scheduler.hpp"
#include "jobs/worker.hpp"
#include "services/orders/orders_service.hpp"
#include "services/payments/payments_service.hpp"
#include "storage/pg/jobs_repository.hpp"
#include "storage/pg/listener.hpp"
#include "storage/pg/maintenance_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/orders_repository.hpp"
#include "storage/pg/scheduler_repository.hpp"
#include "storage/redis/client.hpp"
#include "storage/redis/stock_gate.hpp"

namespace market::app {
namespace {

// Exit codes: 0 ok, 1 runtime failure, 2 usage, 78 configuration (EX_CONFIG).
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitConfig = 78;

void ReportConfigError(const Error& error) {
  std::cerr << "marketplace: invalid configuration:\n";
  for (const auto& field : error.fields)
    std::cerr << "  " << field.field << ": " << field.message << "\n";
}

std::optional<Config> LoadOrReport(bool issues_tokens) {
  auto config = LoadConfig(ProcessGetenv);
  if (!config.ok()) {
    ReportConfigError(config.error());
    return std::nullopt;
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  if (issues_tokens) {
    if (auto secrets = PrepareSecrets(*config); !secrets.ok()) {
      ReportConfigError(secrets.error());
      return std::nullopt;
    }
  }
  return std::move(config).value();
}

template <class T>
T RunBlocking(boost::asio::io_context& io, Task<T> task) {
  std::exception_ptr failure;
  std::optional<T> out;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    failure = e;
    if (!e) out.emplace(std::move(value));
  });
  io.run();
  io.restart();
  if (failure) std::rethrow_exception(failure);
  return std::move(*out);
}

int Migrate(const Config& config) {
  boost::asio::io_context io;
  pg::Pool pool(io.get_executor(), pg::PoolOptions{.conninfo = config.database_url, .max_size = 1});
  try {
    auto applied = RunBlocking(io, pg::Migrate(pool, config.migrations_dir));
    for (const auto& name : applied) spdlog::info("migrate: applied {}", name);
    if (applied.empty()) spdlog::info("migrate: up to date");
  } catch (const std::exception& e) {
    spdlog::error("migrate: {}", e.what());
    return kExitFailure;
  }
  return 0;
}

jobs::HandlerRegistry JobHandlers() {
  jobs::HandlerRegistry handlers;
  jobs::AddBuiltinHandlers(handlers);
  return handlers;
}

// Every kind `worker` runs: the built-in ones, the maintenance jobs and the webhook deliveries.
std::vector<std::string> KnownJobKinds() {
  std::vector<std::string> kinds = JobHandlers().Kinds();
  for (auto kind : jobs::kMaintenanceKinds) kinds.emplace_back(kind);
  for (auto kind : jobs::kDeliveryKinds) kinds.emplace_back(kind);
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

// What the maintenance jobs and webhook deliveries need, built on the worker's io thread as a
// Shard builds it (see app.cpp). The local gateway delivers to LOCAL_PAYMENTS_WEBHOOK_URL, or to
// `serve` on HTTP_HOST:HTTP_PORT.
struct MaintenanceDeps {
  MaintenanceDeps(const Config& config, boost::asio::io_context& io, pg::Pool& pool,
                  services::JobQueue& queue, jobs::MaintenanceMetrics& metrics)
      : redis(io.get_executor(), redis::ParseRedisUrl(config.redis_url)),
        gate(redis),
        orders_repository(pool),
        gateway(pool, queue, LocalGatewayOptionsFrom(config), clock),
        stripe(StripeGatewayFrom(config, provider_pool)),
        payments(pool, orders_repository, gate,
                 stripe ? static_cast<services::PaymentProvider&>(*stripe) : gateway, clock),
        orders(pool, orders_repository, gate, payments, clock,
               services::OrdersOptions{.seller_delivery_after = config.seller_delivery_after}),
        repository(pool),
        maintenance(orders, payments, orders_repository, gate, repository, metrics) {}

  SystemClock clock;
  redis::Client redis;
  redis::RedisStockGate gate;
  pg::PgOrdersRepository orders_repository;
  clients::LocalGateway gateway;
  boost::asio::thread_pool provider_pool{2};
  std::unique_ptr<clients::StripeGateway> stripe;
  services::PaymentsService payments;
  services::OrdersService orders;
  pg::PgMaintenanceRepository repository;
  jobs::Maintenance maintenance;
};

// The first SIGINT/SIGTERM lets the running jobs finish; a second one exits at once (their leases
// run out and other workers run them again).
Task<void> StopOnSignals(boost::asio::signal_set& signals, jobs::Worker& worker) {
  int signal = co_await signals.async_wait(boost::asio::use_awaitable);
  spdlog::info("signal {}: finishing {} running jobs (again to exit now)", signal,
               worker.running());
  worker.Stop();
  signal = co_await signals.async_wait(boost::asio::use_awaitable);
  spdlog::warn("signal {}: exiting with {} jobs running; they run again after their lease", signal,
               worker.running());
  spdlog::default_logger()->flush();
  std::_Exit(kExitFailure);
}

Task<http::Response> Respond(http::Response response) { co_return response; }

// The queue's depth per kind, for /metrics, read again every `interval` until `stopping`: a scrape
// never waits for the database.
Task<void> RefreshCounts(services::JobQueue& queue, std::vector<services::JobCount>& counts,
                         boost::asio::steady_timer& timer, std::chrono::milliseconds interval,
                         const bool& stopping) {
  while (!stopping) {
    try {
      counts = co_await queue.Counts();
    } catch (const std::exception& e) {
      spdlog::warn("worker: cannot count jobs for metrics: {}", e.what());
    }
    if (stopping) break;
    timer.expires_after(interval);
    boost::system::error_code ignored;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
  }
}

int RunWorker(const Config& config) {
  boost::asio::io_context io{1};
  // Two connections per running job (its heartbeat and outcome, and its work), plus the claims.
  pg::Pool pool(
      io.get_executor(),
      pg::PoolOptions{.conninfo = config.database_url,
                      .max_size = static_cast<std::size_t>(config.worker_concurrency) * 2 + 2});
  pg::PgJobQueue queue(pool);
  jobs::MaintenanceMetrics maintenance_metrics;
  // Dropped once the worker has stopped, which closes its Redis connection: an open one would keep
  // the io_context busy until the drain deadline below.
  std::optional<MaintenanceDeps> maintenance(std::in_place, config, io, pool, queue,
                                             maintenance_metrics);
  jobs::HandlerRegistry handlers = JobHandlers();
  jobs::AddMaintenanceHandlers(handlers, maintenance->maintenance);
  jobs::AddDeliveryHandlers(handlers, maintenance->gateway, maintenance_metrics);
  jobs::JobMetrics metrics;
  jobs::Worker worker(io.get_executor(), queue, handlers, WorkerOptionsFrom(config), metrics);

  std::optional<pg::Listener> listener;
  if (config.worker_listen) {
    // The payload is the new job's kind (empty after a reconnect): other kinds are not ours.
    listener.emplace(config.database_url, std::string(pg::kJobsChannel),
                     [&worker, &handlers](std::string_view kind) {
                       if (kind.empty() || handlers.Find(kind) != nullptr) worker.Wake();
                     });
    listener->Start();
  }

  // Its own Prometheus target: /metrics (this process's attempts, the queue's depth) and /healthz.
  bool stopping = false;
  std::vector<services::JobCount> counts;
  boost::asio::steady_timer refresh(io);
  http::Router router;
  std::optional<http::Server> metrics_server;
  if (config.worker_metrics_port != 0) {
    router.Add(http::Method::kGet, "/healthz", [](http::Request&) {
      return Respond(http::Text(200, "text/plain; charset=utf-8", "ok\n"));
    });
    router.Add(http::Method::kGet, "/metrics",
               [&metrics, &counts, &maintenance_metrics](http::Request&) {
                 return Respond(http::Text(200, "text/plain; version=0.0.4; charset=utf-8",
                                           metrics.Render(counts) + maintenance_metrics.Render()));
               });
    const std::uint16_t port = http::ResolvePort(config.http_host, config.worker_metrics_port);
    metrics_server.emplace(
        io, router,
        http::ServerOptions{.address = config.http_host, .port = port, .access_log = false});
    metrics_server->Start();
    boost::asio::co_spawn(
        io, RefreshCounts(queue, counts, refresh, config.worker_poll_interval * 5, stopping),
        boost::asio::detached);
    spdlog::info("worker: metrics on http://{}:{}/metrics", config.http_host, port);
  }

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::co_spawn(io, StopOnSignals(signals, worker), boost::asio::detached);
  std::exception_ptr failure;
  bool finished = false;
  boost::asio::co_spawn(io, worker.Run(), [&](std::exception_ptr e) {
    failure = e;
    finished = true;
    stopping = true;
    refresh.cancel();
    signals.cancel();
    if (metrics_server) metrics_server->BeginDrain();
  });
  while (!finished && io.run_one() > 0) {
  }
  // What is left (the gateway's own deliveries started by a refund or a cancellation, a scrape in
  // flight, the last count) gets a few seconds.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (maintenance->gateway.deliveries_in_flight() > 0 && io.run_one_until(deadline) > 0) {
  }
  if (maintenance->gateway.deliveries_in_flight() == 0) maintenance.reset();
  while (io.run_one_until(deadline) > 0) {
  }
  if (listener) listener->Stop();
  if (failure) std::rethrow_exception(failure);
  spdlog::info("worker stopped");
  return 0;
}

// The first SIGINT/SIGTERM stops the scheduler, which gives up the lead so that a standby takes
// over at once; a second one exits at once (the lock goes with the connection).
Task<void> StopSchedulerOnSignals(boost::asio::signal_set& signals, jobs::Scheduler& scheduler) {
  int signal = co_await signals.async_wait(boost::asio::use_awaitable);
  spdlog::info("signal {}: stopping the scheduler (again to exit now)", signal);
  scheduler.Stop();
  signal = co_await signals.async_wait(boost::asio::use_awaitable);
  spdlog::warn("signal {}: exiting now", signal);
  spdlog::default_logger()->flush();
  std::_Exit(kExitFailure);
}

int RunScheduler(const Config& config) {
  boost::asio::io_context io{1};
  pg::PgSchedulerStore store(io.get_executor(), config.database_url);
  pg::PgJobQueue queue(store.pool());
  const SystemClock clock;
  jobs::Scheduler scheduler(io.get_executor(), store, queue, jobs::MarketplaceSchedule(),
                            SchedulerOptionsFrom(config), clock);

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::co_spawn(io, StopSchedulerOnSignals(signals, scheduler), boost::asio::detached);
  std::exception_ptr failure;
  bool finished = false;
  boost::asio::co_spawn(io, scheduler.Run(), [&](std::exception_ptr e) {
    failure = e;
    finished = true;
    signals.cancel();
  });
  while (!finished && io.run_one() > 0) {
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (io.run_one_until(deadline) > 0) {
  }
  if (failure) std::rethrow_exception(failure);
  return 0;
}

// In UTC whatever TZ says: fmt formats a time_point in local time.
std::string FormatTime(TimePoint time) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S}",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(time)));
}

int ListJobs(const Config& config, services::JobListQuery query) {
  boost::asio::io_context io;
  pg::Pool pool(io.get_executor(), pg::PoolOptions{.conninfo = config.database_url, .max_size = 1});
  pg::PgJobQueue queue(pool);
  const std::vector<services::Job> jobs = RunBlocking(io, queue.List(query));
  std::cout << fmt::format("{:>10}  {:<24} {:<9} {:>9}  {:<19}  {}\n", "id", "kind", "status",
                           "attempts", "run_at (UTC)", "last error");
  for (const auto& job : jobs) {
    std::cout << fmt::format("{:>10}  {:<24} {:<9} {:>9}  {:<19}  {}\n", job.id, job.kind,
                             services::JobStatusName(job.status),
                             fmt::format("{}/{}", job.attempts, job.max_attempts),
                             FormatTime(job.run_at), job.last_error.value_or(""));
  }
  return 0;
}

Task<int> RetryAndReport(services::JobQueue& queue, std::int64_t id) {
  Result<services::Job> retried = co_await queue.Retry(id);
  if (!retried.ok()) {
    std::cerr << "marketplace: " << retried.error().message << "\n";
    co_return kExitFailure;
  }
  std::cout << fmt::format("job {} ({}) queued again\n", retried->id, retried->kind);
  co_return 0;
}

int RetryJob(const Config& config, std::int64_t id) {
  boost::asio::io_context io;
  pg::Pool pool(io.get_executor(), pg::PoolOptions{.conninfo = config.database_url, .max_size = 1});
  pg::PgJobQueue queue(pool);
  return RunBlocking(io, RetryAndReport(queue, id));
}

int EnqueueJob(const Config& config, services::NewJob job) {
  const std::vector<std::string> kinds = KnownJobKinds();
  if (std::find(kinds.begin(), kinds.end(), job.kind) == kinds.end()) {
    std::cerr << fmt::format("marketplace: unknown job kind '{}' (known: {})\n", job.kind,
                             fmt::join(kinds, ", "));
    return kExitUsage;
  }
  boost::system::error_code ec;
  boost::json::parse(job.payload, ec);
  if (ec) {
    std::cerr << "marketplace: the payload is not JSON: " << ec.message() << "\n";
    return kExitUsage;
  }
  boost::asio::io_context io;
  pg::Pool pool(io.get_executor(), pg::PoolOptions{.conninfo = config.database_url, .max_size = 1});
  pg::PgJobQueue queue(pool);
  std::optional<std::int64_t> id = RunBlocking(io, queue.Enqueue(job));
  if (id) {
    std::cout << fmt::format("job {} ({}) queued\n", *id, job.kind);
  } else {
    std::cout << fmt::format("a {} job with unique key {} is already pending\n", job.kind,
                             job.unique_key.value_or(""));
  }
  return 0;
}

int PrintJobStats(const Config& config) {
  boost::asio::io_context io;
  pg::Pool pool(io.get_executor(), pg::PoolOptions{.conninfo = config.database_url, .max_size = 1});
  pg::PgJobQueue queue(pool);
  const std::vector<services::JobCount> counts = RunBlocking(io, queue.Counts());
  std::cout << jobs::JobMetrics().Render(counts);
  return 0;
}

// The route table as JSON, for the check that api/openapi.yaml and the router agree, with the
// routes of `payment_provider`. It needs no real configuration: building a shard connects to
// nothing.
int PrintRoutes(const std::string& payment_provider) {
  Config config;
  config.redis_url = "redis://127.0.0.1:1/0";
  config.jwt_secret = std::string(32, 'x');
  config.payment_provider = payment_provider;
  Shared shared(config);
  Shard shard(config, shared);
  boost::json::array routes;
  for (const auto& route : shard.router().Routes()) {
    routes.push_back(
        boost::json::object{{"method", http::MethodName(route.method)}, {"path", route.pattern}});
  }
  std::cout << boost::json::serialize(routes) << "\n";
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App cli{"Marketplace: API server, worker and tools. Configured by environment variables."};
  cli.require_subcommand(1);
  auto* serve = cli.add_subcommand("serve", "Serve the HTTP API");
  auto* dev = cli.add_subcommand("dev", "Serve the API with background work in one process");
  auto* migrate = cli.add_subcommand("migrate", "Apply pending database migrations");
  auto* routes = cli.add_subcommand("routes", "Print the route table as JSON");
  std::string routes_provider = "local";
  routes->add_option("--payment-provider", routes_provider, "The payment provider's routes")
      ->check(CLI::IsMember({"local", "stripe"}));
  auto* seed = cli.add_subcommand("seed-demo", "Create demo users and listings (idempotent)");
  auto* worker = cli.add_subcommand("worker", "Run queued jobs until SIGTERM");
  auto* scheduler = cli.add_subcommand(
      "scheduler", "Enqueue the periodic jobs until SIGTERM (one leader; others stand by)");

  auto* jobs = cli.add_subcommand("jobs", "Inspect and operate the job queue");
  jobs->require_subcommand(1);
  auto* list = jobs->add_subcommand("list", "Jobs not yet succeeded, newest first");
  bool dead_only = false;
  std::string status_name;
  services::JobListQuery query;
  list->add_flag("--dead", dead_only, "Only dead jobs");
  list->add_option("--status", status_name, "Only jobs in this status")
      ->check(CLI::IsMember({"queued", "running", "succeeded", "dead"}));
  list->add_option("--kind", query.kind, "Only jobs of this kind");
  list->add_option("--limit", query.limit, "At most this many (1-1000)")
      ->check(CLI::Range(1, 1000));
  auto* retry = jobs->add_subcommand("retry", "Queue a dead job again (or run a queued one now)");
  std::int64_t retry_id = 0;
  retry->add_option("id", retry_id, "The job's id (a positive integer)")->required();
  auto* enqueue = jobs->add_subcommand("enqueue", "Queue a job of a kind this binary runs");
  services::NewJob new_job;
  enqueue->add_option("kind", new_job.kind, "The job's kind")->required();
  enqueue->add_option("payload", new_job.payload, "A JSON payload (default {})");
  enqueue->add_option("--unique-key", new_job.unique_key, "Skip if a job with this key is pending");
  enqueue->add_option("--max-attempts", new_job.max_attempts, "Attempts before dead (1-1000)")
      ->check(CLI::Range(1, 1000));
  auto* stats = jobs->add_subcommand("stats", "The queue per kind and status, as Prometheus text");
  CLI11_PARSE(cli, argc, argv);

  if (routes->parsed()) return PrintRoutes(routes_provider);
  // Only the commands that sign things (tokens, webhooks) need the secrets.
  auto config = LoadOrReport(serve->parsed() || dev->parsed() || seed->parsed());
  if (!config) return kExitConfig;
  try {
    if (migrate->parsed()) return Migrate(*config);
    if (seed->parsed()) return SeedDemo(*config);
    if (worker->parsed()) return RunWorker(*config);
    if (scheduler->parsed()) return RunScheduler(*config);
    if (list->parsed()) {
      if (dead_only) status_name = "dead";
      if (auto status = services::ParseJobStatus(status_name)) {
        query.statuses = {*status};
      } else {
        query.statuses = {services::JobStatus::kQueued, services::JobStatus::kRunning,
                          services::JobStatus::kDead};
      }
      return ListJobs(*config, std::move(query));
    }
    if (retry->parsed()) {
      if (retry_id <= 0) {
        std::cerr << "marketplace: jobs retry: the id must be a positive integer\n";
        return kExitUsage;
      }
      return RetryJob(*config, retry_id);
    }
    if (enqueue->parsed()) return EnqueueJob(*config, std::move(new_job));
    if (stats->parsed()) return PrintJobStats(*config);
    // `dev` also runs the background work that has no process of its own yet.
    if (dev->parsed()) config->background_work = true;
    if (serve->parsed() || dev->parsed()) return Serve(*config);
  } catch (const std::exception& e) {
    spdlog::critical("marketplace: {}", e.what());
    return kExitFailure;
  }
  return kExitFailure;
}

}  // namespace market::app
