#include "app/config.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <map>

namespace market::app {
namespace {

using namespace std::chrono_literals;

Result<Config> Load(std::map<std::string, std::string> env) {
  env.try_emplace("DATABASE_URL", "postgresql://u@127.0.0.1:5432/db");
  env.try_emplace("REDIS_URL", "redis://127.0.0.1:6379/0");
  return LoadConfig([&env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

bool HasField(const Error& error, std::string_view field) {
  for (const auto& f : error.fields)
    if (f.field == field) return true;
  return false;
}

TEST(Config, DefaultsAreUsableInDev) {
  auto config = Load({});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->env, Environment::kDev);
  EXPECT_EQ(config->http_port, 8080);
  EXPECT_GE(config->http_threads, 1u);
  EXPECT_TRUE(config->rate_limits);
  EXPECT_EQ(config->access_ttl, 600s);
}

TEST(Config, ServesTheCheckoutsWebBuildUnlessWebDirIsSet) {
  auto by_default = Load({});
  ASSERT_TRUE(by_default.ok());
  EXPECT_TRUE(by_default->web_dir.ends_with("web/dist")) << by_default->web_dir;
  auto set = Load({{"WEB_DIR", "/srv/marketplace/web"}});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->web_dir, "/srv/marketplace/web");
}

TEST(Config, SessionCacheTtlIsShortOrOff) {
  EXPECT_EQ(Load({})->session_cache_ttl, 1s);
  EXPECT_EQ(Load({{"SESSION_CACHE_TTL", "off"}})->session_cache_ttl, 0s);
  EXPECT_EQ(Load({{"SESSION_CACHE_TTL", "10s"}})->session_cache_ttl, 10s);
  for (const char* bad : {"11s", "1m", "0s", "-1s", "soon"}) {
    auto config = Load({{"SESSION_CACHE_TTL", bad}});
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_TRUE(HasField(config.error(), "SESSION_CACHE_TTL")) << bad;
  }
}

TEST(Config, RequiresDatabaseAndRedis) {
  auto config = LoadConfig([](const std::string&) { return std::optional<std::string>(); });
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(HasField(config.error(), "DATABASE_URL"));
  EXPECT_TRUE(HasField(config.error(), "REDIS_URL"));
}

TEST(Config, ReportsEveryBadVariable) {
  auto config = Load({{"HTTP_PORT", "99999"},
                      {"MARKETPLACE_ENV", "staging"},
                      {"JWT_SECRET", "short"},
                      {"RATE_LIMIT_AUTH_IP", "ten per minute"},
                      {"ACCESS_LOG", "maybe"}});
  ASSERT_FALSE(config.ok());
  for (const char* name :
       {"HTTP_PORT", "MARKETPLACE_ENV", "JWT_SECRET", "RATE_LIMIT_AUTH_IP", "ACCESS_LOG"}) {
    EXPECT_TRUE(HasField(config.error(), name)) << name;
  }
}

TEST(Config, RefusesRateLimitsOffInProduction) {
  auto config = Load({{"MARKETPLACE_ENV", "production"},
                      {"JWT_SECRET", std::string(40, 's')},
                      {"RATE_LIMITS", "off"}});
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(HasField(config.error(), "RATE_LIMITS"));
  EXPECT_TRUE(Load({{"MARKETPLACE_ENV", "test"}, {"RATE_LIMITS", "off"}}).ok());
}

TEST(Config, SecretIsRequiredOutsideDev) {
  auto config = Load({{"MARKETPLACE_ENV", "production"}});
  ASSERT_TRUE(config.ok());
  auto secrets = PrepareSecrets(*config);
  ASSERT_FALSE(secrets.ok());
  EXPECT_TRUE(HasField(secrets.error(), "JWT_SECRET"));
  EXPECT_TRUE(HasField(secrets.error(), "LOCAL_PAYMENTS_WEBHOOK_SECRET"));
}

TEST(Config, DevSecretIsGeneratedOnceAndKept) {
  auto dir = std::filesystem::temp_directory_path() / ("market-config-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  auto first = Load({{"VAR_DIR", dir.string()}});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(PrepareSecrets(*first).ok());
  EXPECT_GE(first->jwt_secret.size(), 32u);
  auto second = Load({{"VAR_DIR", dir.string()}});
  ASSERT_TRUE(PrepareSecrets(*second).ok());
  EXPECT_EQ(first->jwt_secret, second->jwt_secret);
  EXPECT_GE(first->local_webhook_secret.size(), 32u);
  EXPECT_EQ(first->local_webhook_secret, second->local_webhook_secret);
  EXPECT_NE(first->jwt_secret, first->local_webhook_secret);
  std::filesystem::remove_all(dir);
}

TEST(Config, ParsesRateRules) {
  auto rule = ParseRateRule("10/1m");
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->burst, 10);
  EXPECT_EQ(rule->interval, 6s);
  EXPECT_FALSE(ParseRateRule("0/1m"));
  EXPECT_FALSE(ParseRateRule("10"));
  EXPECT_FALSE(ParseRateRule("10/1y"));
  EXPECT_FALSE(ParseRateRule("-1/1m"));
}

TEST(Config, ParsesDurations) {
  EXPECT_EQ(ParseDuration("30d"), std::chrono::seconds(30 * 86400));
  EXPECT_EQ(ParseDuration("10m"), 600s);
  EXPECT_FALSE(ParseDuration("10"));
  EXPECT_FALSE(ParseDuration("m"));
  EXPECT_FALSE(ParseDuration("0s"));
}

TEST(Config, ReadsStripeSettingsWithSeveralWebhookSecrets) {
  auto config = Load({{"PAYMENT_PROVIDER", "stripe"},
                      {"STRIPE_SECRET_KEY", "sk_test_abc"},
                      {"STRIPE_PUBLISHABLE_KEY", "pk_test_abc"},
                      {"STRIPE_WEBHOOK_SECRET", "whsec_one, whsec_two"},
                      {"STRIPE_API_VERSION", "2024-06-20"},
                      {"STRIPE_API_BASE", "http://127.0.0.1:12111"}});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->payment_provider, "stripe");
  EXPECT_EQ(config->stripe_secret_key, "sk_test_abc");
  EXPECT_EQ(config->stripe_webhook_secrets, (std::vector<std::string>{"whsec_one", "whsec_two"}));
  EXPECT_EQ(config->stripe_api_version, "2024-06-20");
  EXPECT_EQ(config->stripe_api_base, "http://127.0.0.1:12111");
}

TEST(Config, StripeNeedsItsKeysAndNeverEchoesThem) {
  auto missing = Load({{"PAYMENT_PROVIDER", "stripe"}});
  ASSERT_FALSE(missing.ok());
  for (const char* name : {"STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"})
    EXPECT_TRUE(HasField(missing.error(), name)) << name;

  auto wrong = Load({{"PAYMENT_PROVIDER", "stripe"},
                     {"STRIPE_SECRET_KEY", "pk_test_secretlooking"},
                     {"STRIPE_PUBLISHABLE_KEY", "sk_test_secretlooking"},
                     {"STRIPE_WEBHOOK_SECRET", "whsec_ok,notasecret"},
                     {"STRIPE_API_VERSION", "latest"}});
  ASSERT_FALSE(wrong.ok());
  for (const char* name : {"STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET",
                           "STRIPE_API_VERSION"})
    EXPECT_TRUE(HasField(wrong.error(), name)) << name;
  for (const auto& field : wrong.error().fields)
    EXPECT_EQ(field.message.find("secretlooking"), std::string::npos) << field.message;

  auto production =
      Load({{"MARKETPLACE_ENV", "production"}, {"STRIPE_API_BASE", "http://127.0.0.1:12111"}});
  ASSERT_FALSE(production.ok());
  EXPECT_TRUE(HasField(production.error(), "STRIPE_API_BASE"));
  EXPECT_FALSE(HasField(Load({{"PAYMENT_PROVIDER", "paypal"}}).error(), "STRIPE_SECRET_KEY"));
  EXPECT_TRUE(HasField(Load({{"PAYMENT_PROVIDER", "paypal"}}).error(), "PAYMENT_PROVIDER"));
}

TEST(Config, ReadsWorkerSettings) {
  auto config = Load({{"WORKER_CONCURRENCY", "8"},
                      {"WORKER_POLL_INTERVAL", "5s"},
                      {"WORKER_LEASE", "2m"},
                      {"WORKER_LISTEN", "off"},
                      {"WORKER_METRICS_PORT", "9464"},
                      {"JOB_RETRY_BASE", "1s"},
                      {"JOB_RETRY_MAX", "10m"}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->worker_concurrency, 8);
  EXPECT_EQ(config->worker_poll_interval, 5s);
  EXPECT_EQ(config->worker_lease, 120s);
  EXPECT_FALSE(config->worker_listen);
  EXPECT_EQ(config->worker_metrics_port, 9464);
  EXPECT_EQ(config->job_retry_base, 1s);
  EXPECT_EQ(config->job_retry_max, 600s);
}

TEST(Config, RefusesBadWorkerSettings) {
  auto config = Load({{"WORKER_CONCURRENCY", "0"},
                      {"WORKER_POLL_INTERVAL", "soon"},
                      {"WORKER_LEASE", "2s"},
                      {"WORKER_LISTEN", "maybe"},
                      {"WORKER_METRICS_PORT", "70000"},
                      {"JOB_RETRY_BASE", "1h"},
                      {"JOB_RETRY_MAX", "1m"}});
  ASSERT_FALSE(config.ok());
  for (const char* name : {"WORKER_CONCURRENCY", "WORKER_POLL_INTERVAL", "WORKER_LEASE",
                           "WORKER_LISTEN", "WORKER_METRICS_PORT", "JOB_RETRY_MAX"}) {
    EXPECT_TRUE(HasField(config.error(), name)) << name;
  }
}

TEST(Config, ReadsSchedulerSettings) {
  auto defaults = Load({});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->scheduler_tick, 1s);
  EXPECT_EQ(defaults->scheduler_standby_retry, 2s);
  auto config = Load({{"SCHEDULER_TICK", "5s"}, {"SCHEDULER_STANDBY_RETRY", "1m"}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->scheduler_tick, 5s);
  EXPECT_EQ(config->scheduler_standby_retry, 60s);
}

TEST(Config, RefusesBadSchedulerSettings) {
  auto config = Load({{"SCHEDULER_TICK", "2m"}, {"SCHEDULER_STANDBY_RETRY", "0s"}});
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(HasField(config.error(), "SCHEDULER_TICK"));
  EXPECT_TRUE(HasField(config.error(), "SCHEDULER_STANDBY_RETRY"));
}

TEST(Config, TheOfflineGeocoderIsTheDefault) {
  auto config = Load({});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->geocoder, "offline");
  EXPECT_TRUE(config->geo_data_dir.ends_with("data/geo/build")) << config->geo_data_dir;
  EXPECT_EQ(config->google_maps_base_url, "https://maps.googleapis.com");
  EXPECT_EQ(config->rate_limit_geo_user.burst, 120);
}

TEST(Config, GoogleNeedsAKeyAndOnlyTestsMayMoveItsBaseUrl) {
  auto no_key = Load({{"GEOCODER", "google"}});
  ASSERT_FALSE(no_key.ok());
  EXPECT_TRUE(HasField(no_key.error(), "GOOGLE_MAPS_API_KEY"));
  auto moved = Load({{"GEOCODER", "google"},
                     {"GOOGLE_MAPS_API_KEY", "k"},
                     {"GOOGLE_MAPS_BASE_URL", "http://127.0.0.1:9"}});
  ASSERT_FALSE(moved.ok());
  EXPECT_TRUE(HasField(moved.error(), "GOOGLE_MAPS_BASE_URL"));
  auto in_test = Load({{"MARKETPLACE_ENV", "test"},
                       {"GEOCODER", "google"},
                       {"GOOGLE_MAPS_API_KEY", "k"},
                       {"GOOGLE_MAPS_BASE_URL", "http://127.0.0.1:9"},
                       {"GOOGLE_MAPS_TIMEOUT", "2s"}});
  ASSERT_TRUE(in_test.ok());
  EXPECT_EQ(in_test->google_maps_base_url, "http://127.0.0.1:9");
  EXPECT_EQ(in_test->google_maps_timeout, 2s);
  auto bad =
      Load({{"GEOCODER", "bing"}, {"GOOGLE_MAPS_TIMEOUT", "0s"}, {"RATE_LIMIT_GEO_IP", "x"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(HasField(bad.error(), "GEOCODER"));
  EXPECT_TRUE(HasField(bad.error(), "GOOGLE_MAPS_TIMEOUT"));
  EXPECT_TRUE(HasField(bad.error(), "RATE_LIMIT_GEO_IP"));
}

}  // namespace
}  // namespace market::app
