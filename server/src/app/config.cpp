#include "app/config.hpp"

#include <sodium.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

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

std::string DefaultMigrationsDir() {
#ifdef MARKET_SOURCE_DIR
  return std::string(MARKET_SOURCE_DIR) + "/server/migrations";
#else
  return "server/migrations";
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

  if (auto v = get("MARKETPLACE_ENV")) {
    if (*v == "dev")
      config.env = Environment::kDev;
    else if (*v == "test")
      config.env = Environment::kTest;
    else if (*v == "production")
      config.env = Environment::kProduction;
    else
      bad("MARKETPLACE_ENV", "must be dev, test or production");
  }
  bool production = config.env == Environment::kProduction;

  if (auto v = get("HTTP_HOST")) config.http_host = *v;
  if (auto v = get("HTTP_PORT")) {
    auto port = ParseNumber<unsigned>(*v);
    if (!port || *port == 0 || *port > 65535)
      bad("HTTP_PORT", "must be a port number 1-65535");
    else
      config.http_port = static_cast<std::uint16_t>(*port);
  }
  if (auto v = get("HTTP_THREADS")) {
    auto n = ParseNumber<unsigned>(*v);
    if (!n || *n > 256)
      bad("HTTP_THREADS", "must be 0 (one per core) to 256");
    else
      config.http_threads = *n;
  }
  if (auto v = get("HTTP_BODY_LIMIT")) {
    auto n = ParseNumber<std::size_t>(*v);
    if (!n || *n < 1024 || *n > 64u * 1024 * 1024)
      bad("HTTP_BODY_LIMIT", "must be 1024 to 67108864 bytes");
    else
      config.http_body_limit = *n;
  }
  if (auto v = get("CORS_ORIGINS")) config.cors_origins = SplitList(*v);
  if (auto v = get("ACCESS_LOG")) {
    auto on = ParseSwitch(*v);
    if (!on)
      bad("ACCESS_LOG", "must be on or off");
    else
      config.access_log = *on;
  }
  if (auto v = get("LOG_LEVEL")) {
    if (*v != "trace" && *v != "debug" && *v != "info" && *v != "warn" && *v != "error")
      bad("LOG_LEVEL", "must be trace, debug, info, warn or error");
    else
      config.log_level = *v;
  }

  if (auto v = get("DATABASE_URL"))
    config.database_url = *v;
  else
    bad("DATABASE_URL", "is required (e.g. postgresql://user@127.0.0.1:5432/marketplace)");
  if (auto v = get("DATABASE_POOL_SIZE")) {
    auto n = ParseNumber<std::size_t>(*v);
    if (!n || *n < 1 || *n > 100)
      bad("DATABASE_POOL_SIZE", "must be 1 to 100 (per io thread)");
    else
      config.database_pool_size = *n;
  }
  if (auto v = get("REDIS_URL")) {
    if (v->rfind("redis://", 0) != 0)
      bad("REDIS_URL", "must start with redis://");
    else
      config.redis_url = *v;
  } else {
    bad("REDIS_URL", "is required (e.g. redis://127.0.0.1:6379/0)");
  }

  if (auto v = get("JWT_SECRET")) {
    if (v->size() < kMinSecretBytes)
      bad("JWT_SECRET", "must be at least 32 bytes");
    else
      config.jwt_secret = *v;
  }
  if (auto v = get("JWT_ISSUER")) config.jwt_issuer = *v;
  if (auto v = get("JWT_ACCESS_TTL")) {
    auto d = ParseDuration(*v);
    if (!d || *d > std::chrono::hours(1))
      bad("JWT_ACCESS_TTL", "must be a duration up to 1h, e.g. 10m");
    else
      config.access_ttl = *d;
  }
  if (auto v = get("JWT_REFRESH_TTL")) {
    auto d = ParseDuration(*v);
    if (!d || *d > std::chrono::hours(24 * 365))
      bad("JWT_REFRESH_TTL", "must be a duration up to 365d, e.g. 30d");
    else
      config.refresh_ttl = *d;
  }
  if (auto v = get("PASSWORD_HASH_THREADS")) {
    auto n = ParseNumber<unsigned>(*v);
    if (!n || *n < 1 || *n > 64)
      bad("PASSWORD_HASH_THREADS", "must be 1 to 64");
    else
      config.password_hash_threads = *n;
  }

  if (auto v = get("RATE_LIMITS")) {
    auto on = ParseSwitch(*v);
    if (!on)
      bad("RATE_LIMITS", "must be on or off");
    else if (!*on && production)
      bad("RATE_LIMITS", "cannot be off in production");
    else
      config.rate_limits = *on;
  }
  if (auto v = get("RATE_LIMIT_AUTH_IP")) {
    auto rule = ParseRateRule(*v);
    if (!rule)
      bad("RATE_LIMIT_AUTH_IP", "must be BURST/PERIOD, e.g. 30/1m");
    else
      config.rate_limit_auth_ip = *rule;
  }
  if (auto v = get("RATE_LIMIT_AUTH_ACCOUNT")) {
    auto rule = ParseRateRule(*v);
    if (!rule)
      bad("RATE_LIMIT_AUTH_ACCOUNT", "must be BURST/PERIOD, e.g. 10/5m");
    else
      config.rate_limit_auth_account = *rule;
  }

  config.migrations_dir = get("MIGRATIONS_DIR").value_or(DefaultMigrationsDir());
  if (auto v = get("VAR_DIR")) config.var_dir = *v;

  if (!errors.empty()) {
    return Error{.code = ErrorCode::kValidationFailed,
                 .message = "Invalid configuration.",
                 .fields = std::move(errors)};
  }
  if (config.http_threads == 0)
    config.http_threads = std::max(1u, std::thread::hardware_concurrency());
  return config;
}

Result<void> PrepareSecrets(Config& config) {
  if (!config.jwt_secret.empty()) return Ok();
  if (config.env != Environment::kDev) {
    return Error{.code = ErrorCode::kValidationFailed,
                 .message = "Invalid configuration.",
                 .fields = {{"JWT_SECRET", "is required outside dev (at least 32 random bytes)"}}};
  }
  namespace fs = std::filesystem;
  fs::path path = fs::path(config.var_dir) / "jwt_secret";
  if (std::ifstream in(path); in) {
    std::getline(in, config.jwt_secret);
    if (config.jwt_secret.size() >= kMinSecretBytes) return Ok();
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
  config.jwt_secret = secret;
  return Ok();
}

}  // namespace market::app
