// The Stripe adapter against Stripe's own contract: the stand-in in ../shared/providers (Stripe's
// OpenAPI description served by Prism, which answers 422 to any request that breaks it), and a
// small server of the test's own for what the stand-in cannot do (5xx, timeouts, a refused key).
#include "clients/payments/stripe_gateway.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "auth/webhook_signature.hpp"
#include "common/unavailable.hpp"
#include "db/db_support.hpp"

extern char** environ;

namespace market {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::ip::tcp;
using clients::StripeGateway;
using clients::StripeOptions;
using services::PaymentEvent;
using namespace std::chrono_literals;

constexpr std::string_view kKey = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";

std::uint16_t FreePort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

bool Accepts(std::uint16_t port) {
  asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  return !ec;
}

// PROVIDERS_DIR, else ../shared/providers beside the checkout, else the machine's copy.
std::filesystem::path ProvidersDir() {
  if (const char* dir = std::getenv("PROVIDERS_DIR")) return dir;
  const auto beside =
      std::filesystem::path(MARKET_SOURCE_DIR).parent_path() / "shared" / "providers";
  if (std::filesystem::exists(beside / "mock")) return beside;
  return "/work/shared/providers";
}

// `mock stripe PORT`, run from tests/api (where npm installed Prism), for the whole suite.
class StripeStandIn {
 public:
  StripeStandIn() : port_(FreePort()) {
    const std::string script = (ProvidersDir() / "mock").string();
    const std::string dir = std::string(MARKET_SOURCE_DIR) + "/tests/api";
    const std::string log = ::testing::TempDir() + "stripe-stand-in.log";
    std::string program = "/bin/bash";
    std::string port = std::to_string(port_);
    std::string which = "stripe";
    std::string script_arg = script;
    char* argv[] = {program.data(), script_arg.data(), which.data(), port.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    // Its own process group, so that bash and the node it runs stop together.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    const int error = posix_spawn(&pid_, program.c_str(), &actions, &attributes, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (error != 0) throw std::runtime_error("cannot start " + script);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!Accepts(port_)) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        throw std::runtime_error("the Stripe stand-in exited; see " + log);
      }
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("the Stripe stand-in did not start; see " + log);
      std::this_thread::sleep_for(100ms);
    }
  }
  ~StripeStandIn() {
    if (pid_ > 0) {
      kill(-pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::uint16_t port_;
  pid_t pid_ = 0;
};

// Answers each request with the next scripted reply (the last one repeats): a status, or a
// silence longer than any client timeout. Records what it was sent.
class ScriptedServer {
 public:
  struct Reply {
    int status = 200;
    std::string body = "{}";
    bool silent = false;
  };
  struct Seen {
    std::string target;
    std::string idempotency_key;
    std::string authorization;
    std::string stripe_version;
    std::string body;
  };

  explicit ScriptedServer(std::vector<Reply> script)
      : script_(std::move(script)),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        thread_([this] { Serve(); }) {}
  ~ScriptedServer() {
    stopping_ = true;
    Accepts(acceptor_.local_endpoint().port());  // wakes the accept
    thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  void Serve() {
    std::vector<std::thread> silent;
    std::size_t next = 0;
    while (!stopping_) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) break;
      beast::flat_buffer buffer;
      bhttp::request<bhttp::string_body> request;
      bhttp::read(socket, buffer, request, ec);
      if (ec) continue;
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(Seen{.target = std::string(request.target()),
                             .idempotency_key = std::string(request["Idempotency-Key"]),
                             .authorization = std::string(request["Authorization"]),
                             .stripe_version = std::string(request["Stripe-Version"]),
                             .body = request.body()});
      }
      const Reply reply = script_[std::min(next++, script_.size() - 1)];
      if (reply.silent) {
        // Held open without an answer until the test ends.
        silent.emplace_back([s = std::move(socket), this]() mutable {
          while (!stopping_) std::this_thread::sleep_for(10ms);
        });
        continue;
      }
      bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(reply.status), 11};
      response.set(bhttp::field::content_type, "application/json");
      response.body() = reply.body;
      response.prepare_payload();
      response.keep_alive(false);
      bhttp::write(socket, response, ec);
    }
    for (auto& t : silent) t.join();
  }

  std::vector<Reply> script_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
  std::thread thread_;
};

class StripeGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { stand_in_ = new StripeStandIn(); }
  static void TearDownTestSuite() {
    delete stand_in_;
    stand_in_ = nullptr;
  }

  StripeOptions Options(std::string base, std::vector<std::string> headers = {}) {
    return StripeOptions{.secret_key = std::string(kKey),
                         .webhook_secrets = {"whsec_old_secret", "whsec_new_secret"},
                         .api_base = std::move(base),
                         .timeout = 2s,
                         .max_attempts = 3,
                         .retry_base = 20ms,
                         .test_headers = std::move(headers)};
  }

  // The gateway on the stand-in, answering with `prefer` (e.g. "code=402, example=card_declined").
  StripeGateway AtStandIn(std::string prefer = "") {
    std::vector<std::string> headers;
    if (!prefer.empty()) headers.push_back("Prefer: " + prefer);
    return StripeGateway(Options(stand_in_->url(), std::move(headers)), pool_);
  }

  services::CreateIntent Intent() {
    return services::CreateIntent{.order = domain::OrderId{42},
                                  .amount_cents = 1500,
                                  .currency = "USD",
                                  .idempotency_key = "order-42-intent"};
  }

  template <class T>
  T Run(Task<T> task) {
    return RunTask(io_, std::move(task), 30s);
  }

  static StripeStandIn* stand_in_;
  asio::io_context io_;
  asio::thread_pool pool_{2};
};

StripeStandIn* StripeGatewayTest::stand_in_ = nullptr;

// ---- Against Stripe's contract ----

TEST_F(StripeGatewayTest, CreateRetrieveCancelAndRefundAreAcceptedByStripesContract) {
  StripeGateway stripe = AtStandIn();
  auto created = Run(stripe.CreateIntent(Intent()));
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_TRUE(created->id.starts_with("pi_"));
  EXPECT_TRUE(created->client_secret.starts_with(created->id + "_secret_"));
  EXPECT_EQ(created->currency, "USD");
  EXPECT_EQ(created->status, "requires_payment_method");

  auto retrieved = Run(stripe.RetrieveIntent(created->id));
  ASSERT_TRUE(retrieved.ok()) << retrieved.error().message;
  EXPECT_EQ(retrieved->id, created->id);

  auto cancelled = Run(stripe.CancelIntent(created->id));
  EXPECT_TRUE(cancelled.ok()) << cancelled.error().message;

  auto refund = Run(stripe.Refund(services::RefundRequest{.intent_id = created->id,
                                                          .amount_cents = 500,
                                                          .reason = "cancelled_by_buyer",
                                                          .idempotency_key = "refund-7"}));
  ASSERT_TRUE(refund.ok()) << refund.error().message;
  EXPECT_TRUE(refund->id.starts_with("re_"));
  EXPECT_FALSE(refund->status.empty());
}

TEST_F(StripeGatewayTest, CardDeclinedIsAPaymentDeclined) {
  StripeGateway stripe = AtStandIn("code=402, example=card_declined");
  auto created = Run(stripe.CreateIntent(Intent()));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kPaymentDeclined);
}

TEST_F(StripeGatewayTest, InvalidRequestIsABadRequestAndNotRetried) {
  StripeGateway stripe = AtStandIn("code=400, example=invalid_request");
  auto created = Run(stripe.CreateIntent(Intent()));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(created.error().message.find("parameter_invalid"), std::string::npos);
}

TEST_F(StripeGatewayTest, RateLimitIsRetriedThenUnavailable) {
  StripeGateway stripe = AtStandIn("code=429, example=rate_limit");
  EXPECT_THROW(Run(stripe.CreateIntent(Intent())), ServiceUnavailable);
}

// ---- What the stand-in cannot do ----

TEST_F(StripeGatewayTest, ServerErrorsAreRetriedWithTheSameIdempotencyKey) {
  ScriptedServer stripe_api({{.status = 500}, {.status = 503}, {.status = 200, .body = R"({
    "id": "pi_retried", "object": "payment_intent", "amount": 1500, "currency": "usd",
    "client_secret": "pi_retried_secret_x", "status": "requires_payment_method"})"}});
  StripeGateway stripe(Options(stripe_api.url()), pool_);
  auto created = Run(stripe.CreateIntent(Intent()));
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->id, "pi_retried");
  EXPECT_EQ(created->amount_cents, 1500);
  const auto seen = stripe_api.seen();
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& request : seen) {
    EXPECT_EQ(request.target, "/v1/payment_intents");
    EXPECT_EQ(request.idempotency_key, "order-42-intent");
    EXPECT_EQ(request.authorization, "Bearer " + std::string(kKey));
    EXPECT_EQ(request.stripe_version, "2023-08-16");
    EXPECT_EQ(request.body,
              "amount=1500&currency=usd&automatic_payment_methods%5Benabled%5D=true&"
              "description=Marketplace%20order%2042&metadata%5Border_id%5D=42");
  }
}

TEST_F(StripeGatewayTest, TimeoutsAreRetriedWithTheSameKeyThenUnavailable) {
  ScriptedServer stripe_api(std::vector<ScriptedServer::Reply>{{.silent = true}});
  StripeOptions options = Options(stripe_api.url());
  options.timeout = 300ms;
  StripeGateway stripe(options, pool_);
  services::RefundRequest refund{.intent_id = "pi_1",
                                 .amount_cents = 100,
                                 .reason = "cancelled_by_buyer",
                                 .idempotency_key = "refund-9"};
  try {
    Run(stripe.Refund(refund));
    ADD_FAILURE() << "a silent Stripe must be unavailable";
  } catch (const ServiceUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("Timeout"), std::string::npos) << e.what();
  }
  const auto seen = stripe_api.seen();
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& request : seen) EXPECT_EQ(request.idempotency_key, "refund-9");
}

TEST_F(StripeGatewayTest, OtherRefusalsAreNotRetried) {
  ScriptedServer stripe_api({{.status = 404, .body = R"({"error": {"type":
    "invalid_request_error", "code": "resource_missing", "message": "No such payment_intent"}})"}});
  StripeGateway stripe(Options(stripe_api.url()), pool_);
  auto retrieved = Run(stripe.RetrieveIntent("pi_missing/../x"));
  ASSERT_FALSE(retrieved.ok());
  EXPECT_EQ(retrieved.error().code, ErrorCode::kNotFound);
  const auto seen = stripe_api.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/v1/payment_intents/pi_missing%2F..%2Fx")
      << "the id stays one segment";
}

TEST_F(StripeGatewayTest, ARefusedKeyIsUnavailableAndTheKeyIsNeverInTheError) {
  ScriptedServer stripe_api({{.status = 401, .body = R"({"error": {"type":
    "invalid_request_error", "message": "Invalid API Key provided: sk_test_****p7dc"}})"}});
  StripeGateway stripe(Options(stripe_api.url()), pool_);
  try {
    Run(stripe.CreateIntent(Intent()));
    ADD_FAILURE() << "a refused key must be unavailable";
  } catch (const ServiceUnavailable& e) {
    EXPECT_EQ(std::string(e.what()).find("sk_test"), std::string::npos) << e.what();
  }
  EXPECT_EQ(stripe_api.seen().size(), 1u);
}

TEST_F(StripeGatewayTest, CancellingACanceledIntentIsFineAndASucceededOneAConflict) {
  const std::string unexpected_state = R"({"error": {"type": "invalid_request_error",
    "code": "payment_intent_unexpected_state", "message": "cannot cancel"}})";
  auto intent = [](std::string status) {
    return R"({"id": "pi_1", "object": "payment_intent", "amount": 1500, "currency": "usd",
      "status": ")" +
           status + R"("})";
  };
  {
    ScriptedServer stripe_api(
        {{.status = 400, .body = unexpected_state}, {.status = 200, .body = intent("canceled")}});
    StripeGateway stripe(Options(stripe_api.url()), pool_);
    EXPECT_TRUE(Run(stripe.CancelIntent("pi_1")).ok());
    const auto seen = stripe_api.seen();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].target, "/v1/payment_intents/pi_1/cancel");
    EXPECT_EQ(seen[0].idempotency_key, "cancel-pi_1");
  }
  {
    ScriptedServer stripe_api(
        {{.status = 400, .body = unexpected_state}, {.status = 200, .body = intent("succeeded")}});
    StripeGateway stripe(Options(stripe_api.url()), pool_);
    auto cancelled = Run(stripe.CancelIntent("pi_1"));
    ASSERT_FALSE(cancelled.ok());
    EXPECT_EQ(cancelled.error().code, ErrorCode::kConflict);
  }
}

// ---- Webhooks ----

std::int64_t UnixAt(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

TEST_F(StripeGatewayTest, WebhooksCheckEverySecretAndTheTolerance) {
  StripeGateway stripe = AtStandIn();
  const std::string body = R"({"id": "evt_1", "type": "payment_intent.succeeded", "data":
    {"object": {"object": "payment_intent", "id": "pi_1", "amount": 1500, "currency": "usd",
    "metadata": {"order_id": "42"}}}})";
  const TimePoint now = std::chrono::system_clock::now();
  for (std::string_view secret : {"whsec_old_secret", "whsec_new_secret"}) {
    auto event = stripe.ParseWebhook(auth::SignWebhook(secret, UnixAt(now), body), body, now);
    ASSERT_TRUE(event.ok()) << event.error().message;
    EXPECT_EQ(event->kind, PaymentEvent::Kind::kSucceeded);
    EXPECT_EQ(event->intent_id, "pi_1");
    EXPECT_EQ(event->currency, "USD");
    ASSERT_TRUE(event->order.has_value());
    EXPECT_EQ(event->order->value, 42);
  }
  auto wrong = stripe.ParseWebhook(auth::SignWebhook("whsec_other", UnixAt(now), body), body, now);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidSignature);
  auto old = stripe.ParseWebhook(auth::SignWebhook("whsec_new_secret", UnixAt(now) - 301, body),
                                 body, now);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ErrorCode::kInvalidSignature);
  auto tampered = stripe.ParseWebhook(auth::SignWebhook("whsec_new_secret", UnixAt(now), body),
                                      body + " ", now);
  EXPECT_FALSE(tampered.ok());
}

}  // namespace
}  // namespace market
