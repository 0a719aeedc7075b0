#include "app/cli.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/json.hpp>

#include <iostream>

#include "app/app.hpp"
#include "app/config.hpp"
#include "app/seed_demo.hpp"
#include "storage/pg/migrations.hpp"

namespace market::app {
namespace {

// Exit codes: 0 ok, 1 runtime failure, 2 usage, 78 configuration (EX_CONFIG).
constexpr int kExitFailure = 1;
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

// The route table as JSON, for the check that api/openapi.yaml and the router agree. It needs no
// real configuration: building a shard connects to nothing.
int PrintRoutes() {
  Config config;
  config.redis_url = "redis://127.0.0.1:1/0";
  config.jwt_secret = std::string(32, 'x');
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
  auto* seed = cli.add_subcommand("seed-demo", "Create demo users and listings (idempotent)");
  CLI11_PARSE(cli, argc, argv);

  if (routes->parsed()) return PrintRoutes();
  auto config = LoadOrReport(!migrate->parsed());
  if (!config) return kExitConfig;
  try {
    if (migrate->parsed()) return Migrate(*config);
    if (seed->parsed()) return SeedDemo(*config);
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
