#include "app/config.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "common/text.hpp"

namespace market::app {
namespace {

constexpr std::size_t kMinSecretBytes = 32;

template <class T>
std::optional<T> ParseNumber(std::string_view text) {
  T value{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> ParseSwitch(std::string_view text) {
  if (text == "on" || text == "true" || text == "1") return true;
  if (text == "off" || text == "false" || text == "0") return false;
  return std::nullopt;
}

// A parser accepting whole numbers in [min, max].
template <class T>
auto InRange(T min, T max) {
  return [min, max](std::string_view text) -> std::optional<T> {
    auto n = ParseNumber<T>(text);
    if (!n || *n < min || *n > max) return std::nullopt;
    return n;
  };
}

std::optional<Environment> ParseEnvironment(std::string_view text) {
  if (text == "dev") return Environment::kDev;
  if (text == "test") return Environment::kTest;
  if (text == "production") return Environment::kProduction;
  return std::nullopt;
}

std::optional<std::string> ParseLogLevel(std::string_view text) {
  for (std::string_view level : {"trace", "debug", "info", "warn", "error"}) {
    if (text == level) return std::string(text);
  }
  return std::nullopt;
}

std::optional<std::string> ParseCurrency(std::string_view text) {
  if (text.size() != 3 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
    return std::nullopt;
  return std::string(text);
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

// A path in the checkout the binary was built from (so that it works from any working
// directory), or relative to the working directory when that is not known.
std::string InSourceDir(const std::string& relative) {
#ifdef MARKET_SOURCE_DIR
  return std::string(MARKET_SOURCE_DIR) + "/" + relative;
#else
  return relative;
#endif
}

}  // namespace

std::optional<std::chrono::seconds> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  char unit = text.back();
  std::int64_t scale = 1;
  switch (unit) {
    case 's':
      scale = 1;
      break;
    case 'm':
      scale = 60;
      break;
    case 'h':
      scale = 3600;
      break;
    case 'd':
      scale = 86400;
      break;
    default:
      return std::nullopt;
  }
  auto count = ParseNumber<std::int64_t>(text.substr(0, text.size() - 1));
  if (!count || *count <= 0 || *count > 10'000'000) return std::nullopt;
  return std::chrono::seconds(*count * scale);
}

namespace {

auto DurationUpTo(std::chrono::seconds max) {
  return [max](std::string_view text) -> std::optional<std::chrono::seconds> {
    auto duration = ParseDuration(text);
    if (!duration || *duration > max) return std::nullopt;
    return duration;
  };
}

}  // namespace

std::optional<services::RateRule> ParseRateRule(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto burst = ParseNumber<int>(text.substr(0, slash));
  auto period = ParseDuration(text.substr(slash + 1));
  if (!burst || *burst < 1 || *burst > 1'000'000 || !period) return std::nullopt;
  auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(*period) / *burst;
  if (interval.count() < 1) interval = std::chrono::milliseconds(1);
  return services::RateRule{.burst = *burst, .interval = interval};
}

std::optional<std::string> ProcessGetenv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<Config> LoadConfig(const Getenv& getenv) {
  Config config;
  std::vector<FieldError> errors;
  auto bad = [&errors](std::string name, std::string message) {
    errors.push_back({std::move(name), std::move(message)});
  };
  auto get = [&getenv](const std::string& name) -> std::optional<std::string> {
    auto value = getenv(name);
    if (value && value->empty()) return std::nullopt;
    return value;
  };
  // Sets `target` from variable `name` when it is set, or records `message` when `parse`
  // refuses the value.
  auto read = [&](const char* name, auto parse, const char* message, auto& target) {
    if (auto text = get(name)) {
      if (auto parsed = parse(*text)) {
        target = *parsed;
      } else {
        bad(name, message);
      }
    }
  };

  read("MARKETPLACE_ENV", ParseEnvironment, "must be dev, test or production", config.env);
  bool production = config.env == Environment::kProduction;

  if (auto v = get("HTTP_HOST")) config.http_host = *v;
  read("HTTP_PORT", InRange<std::uint16_t>(1, 65535), "must be a port number 1-65535",
       config.http_port);
  read("HTTP_THREADS", InRange<unsigned>(0, 256), "must be 0 (one per core) to 256",
       config.http_threads);
  read("HTTP_BODY_LIMIT", InRange<std::size_t>(1024, 64u * 1024 * 1024),
       "must be 1024 to 67108864 bytes", config.http_body_limit);
  if (auto v = get("CORS_ORIGINS")) config.cors_origins = SplitList(*v);
  read("ACCESS_LOG", ParseSwitch, "must be on or off", config.access_log);
  read("LOG_LEVEL", ParseLogLevel, "must be trace, debug, info, warn or error", config.log_level);

  if (auto v = get("DATABASE_URL")) {
    config.database_url = *v;
  } else {
    bad("DATABASE_URL", "is required (e.g. postgresql://user@127.0.0.1:5432/marketplace)");
  }
  read("DATABASE_POOL_SIZE", InRange<std::size_t>(1, 100), "must be 1 to 100 (per io thread)",
       config.database_pool_size);
  if (auto v = get("REDIS_URL")) {
    if (v->rfind("redis://", 0) != 0) {
      bad("REDIS_URL", "must start with redis://");
    } else {
      config.redis_url = *v;
    }
  } else {
    bad("REDIS_URL", "is required (e.g. redis://127.0.0.1:6379/0)");
  }

  if (auto v = get("JWT_SECRET")) {
    if (v->size() < kMinSecretBytes) {
      bad("JWT_SECRET", "must be at least 32 bytes");
    } else {
      config.jwt_secret = *v;
    }
  }
  if (auto v = get("JWT_ISSUER")) config.jwt_issuer = *v;
  read("JWT_ACCESS_TTL", DurationUpTo(std::chrono::hours(1)),
       "must be a duration up to 1h, e.g. 10m", config.access_ttl);
  read("JWT_REFRESH_TTL", DurationUpTo(std::chrono::hours(24 * 365)),
       "must be a duration up to 365d, e.g. 30d", config.refresh_ttl);
  read(
      "SESSION_CACHE_TTL",
      [](std::string_view text) -> std::optional<std::chrono::seconds> {
        if (text == "off") return std::chrono::seconds(0);
        return DurationUpTo(std::chrono::seconds(10))(text);
      },
      "must be off or a duration up to 10s, e.g. 1s", config.session_cache_ttl);
  read("PASSWORD_HASH_THREADS", InRange<unsigned>(1, 64), "must be 1 to 64",
       config.password_hash_threads);

  read("RATE_LIMITS", ParseSwitch, "must be on or off", config.rate_limits);
  if (!config.rate_limits && production) bad("RATE_LIMITS", "cannot be off in production");
  read("RATE_LIMIT_AUTH_IP", ParseRateRule, "must be BURST/PERIOD, e.g. 30/1m",
       config.rate_limit_auth_ip);
  read("RATE_LIMIT_AUTH_ACCOUNT", ParseRateRule, "must be BURST/PERIOD, e.g. 10/5m",
       config.rate_limit_auth_account);

  read("PLATFORM_CURRENCY", ParseCurrency, "must be an ISO 4217 code of 3 capital letters",
       config.currency);
  read("ORDER_PAYMENT_TTL", DurationUpTo(std::chrono::hours(24)),
       "must be a duration up to 24h, e.g. 15m", config.order_payment_ttl);
  read("MAX_PENDING_ORDERS", InRange<int>(1, 100), "must be 1 to 100", config.max_pending_orders);
  read("SELLER_DELIVERY_CONFIRM_AFTER", DurationUpTo(std::chrono::hours(24 * 90)),
       "must be a duration up to 90d, e.g. 14d", config.seller_delivery_after);
  if (auto v = get("PAYMENT_PROVIDER")) {
    if (*v == "local" || *v == "stripe") {
      config.payment_provider = *v;
    } else {
      bad("PAYMENT_PROVIDER", "must be local or stripe");
    }
  }
  // Checked whatever the provider, so that a wrong value is found before it is switched on; the
  // messages never repeat a value (they are secrets).
  if (auto v = get("STRIPE_SECRET_KEY")) {
    if (v->rfind("sk_test_", 0) != 0 && v->rfind("sk_live_", 0) != 0 &&
        v->rfind("rk_test_", 0) != 0 && v->rfind("rk_live_", 0) != 0) {
      bad("STRIPE_SECRET_KEY", "must be a Stripe secret or restricted key (sk_… or rk_…)");
    } else {
      config.stripe_secret_key = *v;
    }
  }
  if (auto v = get("STRIPE_PUBLISHABLE_KEY")) {
    if (v->rfind("pk_test_", 0) != 0 && v->rfind("pk_live_", 0) != 0) {
      bad("STRIPE_PUBLISHABLE_KEY", "must be a Stripe publishable key (pk_…)");
    } else {
      config.stripe_publishable_key = *v;
    }
  }
  if (auto v = get("STRIPE_WEBHOOK_SECRET")) {
    config.stripe_webhook_secrets.clear();
    for (std::string_view rest = *v; !rest.empty();) {
      const std::size_t comma = rest.find(',');
      const std::string_view secret = Trim(rest.substr(0, comma));
      if (!secret.empty()) config.stripe_webhook_secrets.emplace_back(secret);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    const bool well_formed =
        std::all_of(config.stripe_webhook_secrets.begin(), config.stripe_webhook_secrets.end(),
                    [](const std::string& secret) { return secret.rfind("whsec_", 0) == 0; });
    if (config.stripe_webhook_secrets.empty() || !well_formed)
      bad("STRIPE_WEBHOOK_SECRET", "must be whsec_… secrets, separated by commas");
  }
  if (auto v = get("STRIPE_API_VERSION")) {
    if (v->size() != 10 || (*v)[4] != '-' || (*v)[7] != '-') {
      bad("STRIPE_API_VERSION", "must be a date such as 2023-08-16");
    } else {
      config.stripe_api_version = *v;
    }
  }
  if (auto v = get("STRIPE_API_BASE")) {
    if (production) {
      bad("STRIPE_API_BASE", "is for tests only");
    } else if (v->rfind("http://", 0) != 0 && v->rfind("https://", 0) != 0) {
      bad("STRIPE_API_BASE", "must be an http(s) URL");
    } else {
      config.stripe_api_base = *v;
    }
  }
  if (config.payment_provider == "stripe") {
    if (config.stripe_secret_key.empty()) bad("STRIPE_SECRET_KEY", "is required with stripe");
    if (config.stripe_publishable_key.empty())
      bad("STRIPE_PUBLISHABLE_KEY", "is required with stripe");
    if (config.stripe_webhook_secrets.empty())
      bad("STRIPE_WEBHOOK_SECRET", "is required with stripe");
  }
  if (auto v = get("LOCAL_PAYMENTS_WEBHOOK_SECRET")) {
    if (v->size() < kMinSecretBytes) {
      bad("LOCAL_PAYMENTS_WEBHOOK_SECRET", "must be at least 32 bytes");
    } else {
      config.local_webhook_secret = *v;
    }
  }
  if (auto v = get("LOCAL_PAYMENTS_WEBHOOK_URL")) {
    if (v->rfind("http://", 0) != 0) {
      bad("LOCAL_PAYMENTS_WEBHOOK_URL", "must be an http:// URL");
    } else {
      config.local_webhook_url = *v;
    }
  }
  if (auto v = get("GEOCODER")) {
    if (*v == "offline" || *v == "google") {
      config.geocoder = *v;
    } else {
      bad("GEOCODER", "must be offline or google");
    }
  }
  if (auto v = get("GOOGLE_MAPS_API_KEY")) config.google_maps_api_key = *v;
  if (config.geocoder == "google" && config.google_maps_api_key.empty())
    bad("GOOGLE_MAPS_API_KEY", "is required when GEOCODER=google");
  if (auto v = get("GOOGLE_MAPS_BASE_URL")) {
    if (config.env != Environment::kTest) {
      bad("GOOGLE_MAPS_BASE_URL", "may be set only when MARKETPLACE_ENV=test");
    } else if (v->rfind("http://", 0) != 0 && v->rfind("https://", 0) != 0) {
      bad("GOOGLE_MAPS_BASE_URL", "must be an http:// or https:// URL");
    } else {
      config.google_maps_base_url = *v;
    }
  }
  read("GOOGLE_MAPS_TIMEOUT", DurationUpTo(std::chrono::seconds(30)),
       "must be a duration of 1s to 30s, e.g. 3s", config.google_maps_timeout);
  if (config.google_maps_timeout < std::chrono::seconds(1))
    bad("GOOGLE_MAPS_TIMEOUT", "must be a duration of 1s to 30s, e.g. 3s");
  config.geo_data_dir = get("GEO_DATA_DIR").value_or(InSourceDir("data/geo/build"));
  read("RATE_LIMIT_GEO_USER", ParseRateRule, "must be BURST/PERIOD, e.g. 120/1m",
       config.rate_limit_geo_user);
  read("RATE_LIMIT_GEO_IP", ParseRateRule, "must be BURST/PERIOD, e.g. 600/1m",
       config.rate_limit_geo_ip);
  read("MEDIA_THREADS", InRange<unsigned>(1, 16), "must be 1 to 16", config.media_threads);

  read("WORKER_CONCURRENCY", InRange<int>(1, 256), "must be 1 to 256", config.worker_concurrency);
  read("WORKER_POLL_INTERVAL", DurationUpTo(std::chrono::hours(1)),
       "must be a duration up to 1h, e.g. 2s", config.worker_poll_interval);
  read("WORKER_LEASE", DurationUpTo(std::chrono::hours(1)),
       "must be a duration of 3s to 1h, e.g. 60s", config.worker_lease);
  if (config.worker_lease < std::chrono::seconds(3)) {
    bad("WORKER_LEASE", "must be a duration of 3s to 1h, e.g. 60s");
  }
  read("WORKER_LISTEN", ParseSwitch, "must be on or off", config.worker_listen);
  read("WORKER_METRICS_PORT", InRange<std::uint16_t>(0, 65535),
       "must be 0 (off) or a port number 1-65535", config.worker_metrics_port);
  read("JOB_RETRY_BASE", DurationUpTo(std::chrono::hours(1)),
       "must be a duration up to 1h, e.g. 10s", config.job_retry_base);
  read("JOB_RETRY_MAX", DurationUpTo(std::chrono::hours(24 * 7)),
       "must be a duration up to 7d, e.g. 1h", config.job_retry_max);
  if (config.job_retry_max < config.job_retry_base) {
    bad("JOB_RETRY_MAX", "must not be shorter than JOB_RETRY_BASE");
  }
  read("SCHEDULER_TICK", DurationUpTo(std::chrono::minutes(1)),
       "must be a duration of 1s to 1m, e.g. 1s", config.scheduler_tick);
  read("SCHEDULER_STANDBY_RETRY", DurationUpTo(std::chrono::minutes(1)),
       "must be a duration of 1s to 1m, e.g. 2s", config.scheduler_standby_retry);

  config.migrations_dir = get("MIGRATIONS_DIR").value_or(InSourceDir("server/migrations"));
  if (auto v = get("VAR_DIR")) config.var_dir = *v;
  config.media_dir = get("MEDIA_DIR").value_or(config.var_dir + "/media");
  config.web_dir = get("WEB_DIR").value_or(InSourceDir("web/dist"));

  if (!errors.empty()) {
    return Error{.code = ErrorCode::kValidationFailed,
                 .message = "Invalid configuration.",
                 .fields = std::move(errors)};
  }
  if (config.http_threads == 0)
    config.http_threads = std::max(1u, std::thread::hardware_concurrency());
  return config;
}

namespace {

// `value` from its variable, or in dev from VAR_DIR/`file`, generated there the first time.
Result<void> PrepareSecret(const Config& config, std::string& value, const char* variable,
                           const char* file) {
  if (!value.empty()) return Ok();
  if (config.env != Environment::kDev) {
    return Error{.code = ErrorCode::kValidationFailed,
                 .message = "Invalid configuration.",
                 .fields = {{variable, "is required outside dev (at least 32 random bytes)"}}};
  }
  namespace fs = std::filesystem;
  fs::path path = fs::path(config.var_dir) / file;
  if (std::ifstream in(path); in) {
    std::getline(in, value);
    if (value.size() >= kMinSecretBytes) return Ok();
  }
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  std::string secret;
  for (unsigned char c : raw) secret += fmt::format("{:02x}", c);
  fs::create_directories(path.parent_path());
  {
    std::ofstream out(path, std::ios::trunc);
    out << secret << '\n';
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  value = secret;
  return Ok();
}

}  // namespace

Result<void> PrepareSecrets(Config& config) {
  std::vector<FieldError> missing;
  for (auto [value, variable, file] :
       {std::tuple{&config.jwt_secret, "JWT_SECRET", "jwt_secret"},
        std::tuple{&config.local_webhook_secret, "LOCAL_PAYMENTS_WEBHOOK_SECRET",
                   "local_webhook_secret"}}) {
    auto prepared = PrepareSecret(config, *value, variable, file);
    if (!prepared.ok()) missing.push_back(prepared.error().fields.front());
  }
  if (missing.empty()) return Ok();
  return Error{.code = ErrorCode::kValidationFailed,
               .message = "Invalid configuration.",
               .fields = std::move(missing)};
}

}  // namespace market::app
