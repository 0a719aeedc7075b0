#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "services/rate_limiter.hpp"

namespace market::app {

enum class Environment { kDev, kTest, kProduction };

// Everything the process reads from its environment, read once at start-up.
struct Config {
  Environment env = Environment::kDev;
  std::string http_host = "127.0.0.1";
  std::uint16_t http_port = 8080;
  unsigned http_threads = 0;  // 0: one per core
  std::size_t http_body_limit = 1024 * 1024;
  std::vector<std::string> cors_origins;
  bool access_log = true;
  std::string log_level = "info";

  std::string database_url;
  // Per io thread. Small on purpose: measured on 2 cores, 2 per thread gave the best p99 (6 ms at
  // 64 connections on /me) while 8 per thread let PostgreSQL backends crowd the CPU (p99 > 300 ms).
  std::size_t database_pool_size = 2;
  std::string redis_url;

  std::string jwt_secret;
  std::string jwt_issuer = "marketplace";
  std::chrono::seconds access_ttl{600};
  std::chrono::seconds refresh_ttl{std::chrono::hours(24 * 30)};
  // How long a session found live is trusted without asking PostgreSQL again (0: always ask);
  // see services::SessionCache.
  std::chrono::seconds session_cache_ttl{1};
  unsigned password_hash_threads = 2;

  bool rate_limits = true;
  services::RateRule rate_limit_auth_ip{30, std::chrono::seconds(2)};
  services::RateRule rate_limit_auth_account{10, std::chrono::seconds(30)};

  // The one currency listings are priced in (ISO 4217).
  std::string currency = "USD";
  // Unpaid orders hold their stock this long, then expire.
  std::chrono::seconds order_payment_ttl{15 * 60};
  // Unpaid orders a buyer may have at once, so that nobody can lock up stock.
  int max_pending_orders = 5;
  // A seller may confirm delivery of their shipped items this long after shipping.
  std::chrono::seconds seller_delivery_after{std::chrono::hours(24 * 14)};

  // The payment gateway: the built-in `local` one, or `stripe`.
  std::string payment_provider = "local";
  // PAYMENT_PROVIDER=stripe: the API key (never logged), the key the browser uses for Stripe
  // Elements, the webhook signing secrets (several while rolling one), the pinned API version,
  // and (tests only: refused in production) where Stripe's API is.
  std::string stripe_secret_key;
  std::string stripe_publishable_key;
  std::vector<std::string> stripe_webhook_secrets;
  std::string stripe_api_version = "2023-08-16";
  std::string stripe_api_base = "https://api.stripe.com";
  // Signs the local gateway's webhook deliveries (Stripe's scheme).
  std::string local_webhook_secret;
  // Where the local gateway delivers its events: this server's webhook unless set.
  std::string local_webhook_url;

  // Address checks and the address form's lookups: `offline` (data built by scripts/setup into
  // geo_data_dir) or `google` (needs the key; falls back to offline). The key is never logged.
  std::string geocoder = "offline";
  std::string google_maps_api_key;
  // Tests only (MARKETPLACE_ENV=test): the stand-in or a server of their own.
  std::string google_maps_base_url = "https://maps.googleapis.com";
  std::chrono::milliseconds google_maps_timeout{3000};
  std::string geo_data_dir;
  services::RateRule rate_limit_geo_user{120, std::chrono::milliseconds(500)};
  services::RateRule rate_limit_geo_ip{600, std::chrono::milliseconds(100)};

  // Background work in this process (`marketplace dev`): a job worker and the scheduler.
  bool background_work = false;
  std::string media_dir = "var/media";  // MEDIA_DIR, default VAR_DIR/media
  unsigned media_threads = 1;
  // The built web app (`npm run build` in web/), served for the paths no API route takes: WEB_DIR,
  // by default the checkout's web/dist. Not served when it holds no index.html.
  std::string web_dir;

  // `marketplace worker`: jobs run at once, how often it looks for due jobs when no
  // notification wakes it, how long a claimed job stays leased without a heartbeat (a worker that
  // dies loses its jobs to the others after this long), whether it LISTENs for new jobs, and the
  // retry backoff (base·2^(attempt−1) with jitter, capped).
  int worker_concurrency = 4;
  std::chrono::seconds worker_poll_interval{2};
  std::chrono::seconds worker_lease{60};
  bool worker_listen = true;
  // Serves the worker's /metrics and /healthz on HTTP_HOST; 0: no server.
  std::uint16_t worker_metrics_port = 0;
  std::chrono::seconds job_retry_base{10};
  std::chrono::seconds job_retry_max{3600};

  // `marketplace scheduler`: how often the leader looks for due slots and checks that it still
  // holds the lock, and how often a standby tries to take the lead (a dead leader is replaced
  // within about this long).
  std::chrono::seconds scheduler_tick{1};
  std::chrono::seconds scheduler_standby_retry{2};

  std::string migrations_dir;
  std::string var_dir = "var";
};

using Getenv = std::function<std::optional<std::string>(const std::string&)>;

// Reads and validates every variable; on failure the Error lists each bad variable as a field.
Result<Config> LoadConfig(const Getenv& getenv);
std::optional<std::string> ProcessGetenv(const std::string& name);

// "BURST/PERIOD", e.g. "10/1m" or "30/2s": BURST requests at once, refilled evenly over PERIOD.
std::optional<services::RateRule> ParseRateRule(std::string_view text);
std::optional<std::chrono::seconds> ParseDuration(std::string_view text);

// For the commands that issue tokens or sign: JWT_SECRET and LOCAL_PAYMENTS_WEBHOOK_SECRET must be
// set, except in dev, where random ones are generated once and kept in VAR_DIR (jwt_secret,
// local_webhook_secret) so that sessions and pending deliveries survive restarts.
Result<void> PrepareSecrets(Config& config);

}  // namespace market::app
