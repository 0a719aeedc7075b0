// The local payment gateway against the real PostgreSQL, delivering its webhooks to a small HTTP
// receiver run by the test on 127.0.0.1 (port 0).
#include "clients/payments/local_gateway.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <map>
#include <set>

#include "auth/webhook_signature.hpp"
#include "common/unavailable.hpp"
#include "db/db_support.hpp"
#include "db/order_support.hpp"
#include "handlers/payments_local.hpp"
#include "http/client.hpp"
#include "http/router.hpp"
#include "jobs/deliveries.hpp"
#include "jobs/metrics.hpp"
#include "jobs/worker.hpp"
#include "storage/pg/jobs_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/params.hpp"
#include "storage/pg/pool.hpp"

namespace market {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using asio::ip::tcp;
using clients::CardDetails;
using clients::LocalGateway;
using services::DeliveryAttempt;
using services::PaymentEvent;
using services::PaymentIntent;
using namespace std::chrono_literals;

constexpr std::string_view kSecret = "whsec_local_gateway_test";
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

class ManualClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now() + offset; }
  std::chrono::seconds offset{0};
};

// A webhook receiver: answers 500 to the first `fail_first[intent id]` deliveries of the events of
// an intent and 200 to everything else, recording each delivery and whether its signature checked
// out. Keyed by intent, which a test knows before the gateway makes (and at once delivers) the
// event.
class Receiver {
 public:
  struct Delivery {
    std::string event_id;
    std::string intent_id;
    std::string body;
    std::string content_type;
    bool signature_ok = false;
    int status = 0;
  };

  Receiver(asio::io_context& io, const Clock& clock)
      : clock_(clock), acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, Accept(this), asio::detached);
  }

  void Close() { acceptor_.close(); }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hook";
  }
  int CountOf(const std::string& event_id, int status = 0) const {
    int n = 0;
    for (const auto& d : deliveries)
      if (d.event_id == event_id && (status == 0 || d.status == status)) ++n;
    return n;
  }

  std::map<std::string, int> fail_first;
  std::vector<Delivery> deliveries;
  int connections = 0;
  bool close_each = false;

 private:
  static Task<void> Accept(Receiver* self) {
    for (;;) {
      auto [ec, socket] = co_await self->acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      asio::co_spawn(self->acceptor_.get_executor(), Serve(self, std::move(socket)),
                     asio::detached);
    }
  }

  // Answers requests on one connection until the client closes it, or after one request when
  // `close_each` is set (then the client finds its kept connection closed).
  static Task<void> Serve(Receiver* self, tcp::socket socket) {
    ++self->connections;
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> request;
      auto [read_ec, read] = co_await bhttp::async_read(socket, buffer, request, kNoThrow);
      if (read_ec) co_return;
      const bool keep = request.keep_alive() && !self->close_each;
      auto response = self->Answer(request);
      response.keep_alive(keep);
      auto [write_ec, written] = co_await bhttp::async_write(socket, response, kNoThrow);
      if (write_ec || !keep) co_return;
    }
  }

  bhttp::response<bhttp::string_body> Answer(const bhttp::request<bhttp::string_body>& request) {
    Delivery delivery{.body = request.body(),
                      .content_type = std::string(request[bhttp::field::content_type])};
    delivery.signature_ok =
        auth::VerifyWebhook(request["Local-Signature"], request.body(), kSecret, clock_.Now()).ok();
    boost::system::error_code json_ec;
    json::value body = json::parse(request.body(), json_ec);
    if (!json_ec && body.is_object()) {
      const json::object& event = body.as_object();
      if (auto* id = event.if_contains("id"); id != nullptr && id->is_string())
        delivery.event_id = std::string(id->as_string());
      if (auto* data = event.if_contains("data"); data != nullptr && data->is_object()) {
        const json::object& object = data->as_object().at("object").as_object();
        const char* key = object.contains("payment_intent") ? "payment_intent" : "id";
        delivery.intent_id = std::string(object.at(key).as_string());
      }
    }
    delivery.status = 200;
    if (auto it = fail_first.find(delivery.intent_id); it != fail_first.end() && it->second > 0) {
      --it->second;
      delivery.status = 500;
    }
    deliveries.push_back(delivery);
    bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(delivery.status), 11};
    response.set(bhttp::field::content_type, "application/json");
    response.body() = R"({"received":true})";
    response.prepare_payload();
    return response;
  }

  const Clock& clock_;
  tcp::acceptor acceptor_;
};

// Three years ahead of the real clock (the tests move it by days at most).
std::int64_t GoodYear() {
  const std::chrono::year_month_day today{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
  return static_cast<int>(today.year()) + 3;
}

CardDetails Card(std::string client_secret, std::string number) {
  return CardDetails{.client_secret = std::move(client_secret),
                     .card_number = std::move(number),
                     .exp_month = 12,
                     .exp_year = GoodYear(),
                     .cvc = "123"};
}

// A plain coroutine function, not a lambda: its arguments live in its own frame.
Task<void> ConfirmInto(LocalGateway& gateway, std::string intent_id, CardDetails card,
                       std::optional<Result<PaymentIntent>>& out) {
  out.emplace(co_await gateway.Confirm(intent_id, card));
}

Task<void> CancelInto(LocalGateway& gateway, std::string intent_id,
                      std::optional<Result<void>>& out) {
  out.emplace(co_await gateway.CancelIntent(intent_id));
}

Task<void> DeliverInto(LocalGateway& gateway, std::string event_id,
                       std::optional<DeliveryAttempt>& out) {
  out.emplace(co_await gateway.DeliverEvent(event_id));
}

class LocalGatewayTest : public ::testing::Test {
 protected:
  LocalGatewayTest()
      : pool_(io_.get_executor(), pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = 8}),
        receiver_(io_, clock_),
        jobs_queue_(pool_),
        gateway_(pool_, jobs_queue_,
                 clients::LocalGatewayOptions{.webhook_url = receiver_.url(),
                                              .webhook_secret = std::string(kSecret),
                                              .delivery_timeout = 5s},
                 clock_) {
    RunTask(io_, pg::Migrate(pool_, MigrationsDir()));
  }

  // Leaves nothing of this test for another deliverer to pick up: the events of the intents it
  // made that are still undelivered are given up.
  void TearDown() override {
    for (const std::string& id : intents_) {
      RunTask(io_, pool_.Execute(pg::Statement{"test.give_up",
                                               "UPDATE local_webhook_events SET failed_at = now() "
                                               "WHERE intent_id = $1 AND delivered_at IS NULL"},
                                 pg::Params(id)));
      RunTask(io_,
              pool_.Execute(pg::Statement{"test.drop_delivery_jobs",
                                          "DELETE FROM jobs WHERE kind = 'deliver_webhooks' AND "
                                          "payload->>'event_id' IN (SELECT id FROM "
                                          "local_webhook_events WHERE intent_id = $1)"},
                            pg::Params(id)));
    }
  }

  DeliveryAttempt Attempt(const std::string& event_id) {
    return RunTask(io_, gateway_.DeliverEvent(event_id));
  }

  // The pending deliver_webhooks job of the event: its status and seconds until it is due.
  std::optional<std::pair<std::string, double>> DeliveryJob(const std::string& event_id) {
    auto rows = Query(
        "SELECT status, extract(epoch FROM run_at - now())::float8 AS due_in FROM jobs WHERE "
        "unique_key = 'deliver_webhooks:' || $1 AND status IN ('queued', 'running')",
        event_id);
    if (rows.empty()) return std::nullopt;
    return std::pair{rows.String(0, "status"), std::stod(rows.String(0, "due_in"))};
  }

  PaymentIntent NewIntent(std::int64_t amount = 1500, std::int64_t order = 0) {
    if (order == 0) order = std::stoll(RandomSuffix()) + 1;
    services::CreateIntent request{
        .order = domain::OrderId{order},
        .amount_cents = amount,
        .currency = "USD",
        .idempotency_key = "order-" + std::to_string(order) + "-" + RandomSuffix()};
    auto intent = RunTask(io_, gateway_.CreateIntent(request));
    EXPECT_TRUE(intent.ok());
    intents_.push_back(intent->id);
    return *intent;
  }

  Result<PaymentIntent> Confirm(const PaymentIntent& intent, std::string number) {
    return RunTask(io_, gateway_.Confirm(intent.id, Card(intent.client_secret, number)));
  }

  PaymentIntent Paid(std::int64_t amount = 1000) {
    PaymentIntent intent = NewIntent(amount);
    auto paid = Confirm(intent, "4242 4242 4242 4242");
    EXPECT_TRUE(paid.ok());
    return intent;
  }

  // Named after its text: a statement name stands for one SQL text on a connection.
  pg::QueryResult Query(std::string_view sql, const std::string& param) {
    const std::string name = "test.gateway." + std::to_string(std::hash<std::string_view>{}(sql));
    return RunTask(io_, pool_.Execute(pg::Statement{name, sql}, pg::Params(param)));
  }

  std::string Status(const std::string& intent_id) {
    return Query("SELECT status FROM local_payment_intents WHERE id = $1", intent_id)
        .String(0, "status");
  }

  // The intent's events, oldest first.
  std::vector<std::pair<std::string, std::string>> Events(const std::string& intent_id) {
    auto rows = Query(
        "SELECT id, type, payload FROM local_webhook_events WHERE intent_id = $1 "
        "ORDER BY created_at, id",
        intent_id);
    std::vector<std::pair<std::string, std::string>> events;
    for (int r = 0; r < rows.size(); ++r)
      events.emplace_back(rows.String(r, "type"), rows.String(r, "payload"));
    return events;
  }

  std::string EventId(const std::string& intent_id, std::string_view type) {
    auto rows = Query(
        "SELECT id, type FROM local_webhook_events WHERE intent_id = $1 ORDER BY created_at, id",
        intent_id);
    for (int r = 0; r < rows.size(); ++r)
      if (rows.Text(r, "type") == type) return rows.String(r, "id");
    ADD_FAILURE() << "no " << type << " event for " << intent_id;
    return {};
  }

  bool Delivered(const std::string& event_id) {
    return !Query("SELECT delivered_at FROM local_webhook_events WHERE id = $1", event_id)
                .IsNull(0, "delivered_at");
  }

  // Runs the io_context (background deliveries, the receiver) until `done` holds.
  template <class Pred>
  bool Eventually(Pred done, std::chrono::seconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      io_.restart();
      io_.run_for(10ms);
    }
    return done();
  }

  asio::io_context io_;
  pg::Pool pool_;
  ManualClock clock_;
  Receiver receiver_;
  pg::PgJobQueue jobs_queue_;
  LocalGateway gateway_;
  std::vector<std::string> intents_;
};

// ---- Intents ----

TEST_F(LocalGatewayTest, CreateIntentIsIdempotentByKey) {
  services::CreateIntent request{.order = domain::OrderId{std::stoll(RandomSuffix()) + 1},
                                 .amount_cents = 2599,
                                 .currency = "usd",
                                 .idempotency_key = "order-key-" + RandomSuffix()};
  auto first = RunTask(io_, gateway_.CreateIntent(request));
  ASSERT_TRUE(first.ok());
  intents_.push_back(first->id);
  auto again = RunTask(io_, gateway_.CreateIntent(request));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(again->client_secret, first->client_secret);

  EXPECT_TRUE(first->id.starts_with("pi_local_"));
  EXPECT_EQ(first->id.size(), std::string("pi_local_").size() + 24);
  EXPECT_TRUE(first->client_secret.starts_with(first->id + "_secret_"));
  EXPECT_EQ(first->amount_cents, 2599);
  EXPECT_EQ(first->currency, "USD");
  EXPECT_EQ(first->status, "requires_payment_method");
  EXPECT_EQ(Query("SELECT count(*) AS n FROM local_payment_intents WHERE idempotency_key = $1",
                  request.idempotency_key)
                .Int(0, "n"),
            1);

  auto retrieved = RunTask(io_, gateway_.RetrieveIntent(first->id));
  ASSERT_TRUE(retrieved.ok());
  EXPECT_EQ(retrieved->id, first->id);
  EXPECT_EQ(retrieved->status, "requires_payment_method");

  services::CreateIntent other_amount = request;
  other_amount.amount_cents = 2600;
  auto conflict = RunTask(io_, gateway_.CreateIntent(other_amount));
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, ErrorCode::kConflict);

  services::CreateIntent other_currency = request;
  other_currency.currency = "EUR";
  auto conflict2 = RunTask(io_, gateway_.CreateIntent(other_currency));
  ASSERT_FALSE(conflict2.ok());
  EXPECT_EQ(conflict2.error().code, ErrorCode::kConflict);

  services::CreateIntent other_key = request;
  other_key.idempotency_key += "-2";
  auto second = RunTask(io_, gateway_.CreateIntent(other_key));
  ASSERT_TRUE(second.ok());
  intents_.push_back(second->id);
  EXPECT_NE(second->id, first->id);
}

TEST_F(LocalGatewayTest, RefusesAnIntentWithoutAmountOrCurrency) {
  services::CreateIntent request{
      .order = domain::OrderId{1}, .amount_cents = 0, .currency = "USD", .idempotency_key = "x"};
  auto zero = RunTask(io_, gateway_.CreateIntent(request));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, ErrorCode::kValidationFailed);
  request.amount_cents = 100;
  request.currency = "US";
  auto bad_currency = RunTask(io_, gateway_.CreateIntent(request));
  ASSERT_FALSE(bad_currency.ok());
  EXPECT_EQ(bad_currency.error().code, ErrorCode::kValidationFailed);
}

TEST_F(LocalGatewayTest, RetrieveOfAnUnknownIntentIsNotFound) {
  auto missing = RunTask(io_, gateway_.RetrieveIntent("pi_local_doesnotexist"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

// ---- Confirm ----

TEST_F(LocalGatewayTest, SuccessCardPaysAndEmitsSucceeded) {
  const std::int64_t order = std::stoll(RandomSuffix()) + 1;
  PaymentIntent intent = NewIntent(4200, order);
  auto paid = Confirm(intent, "4242 4242 4242 4242");
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  EXPECT_EQ(paid->id, intent.id);
  EXPECT_EQ(paid->status, "succeeded");
  EXPECT_EQ(paid->amount_cents, 4200);
  EXPECT_EQ(paid->currency, "USD");
  EXPECT_EQ(Status(intent.id), "succeeded");

  auto events = Events(intent.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "payment_intent.succeeded");
  json::object event = json::parse(events[0].second).as_object();
  EXPECT_TRUE(event.at("id").as_string().starts_with("evt_local_"));
  EXPECT_EQ(event.at("object").as_string(), "event");
  EXPECT_EQ(event.at("type").as_string(), "payment_intent.succeeded");
  EXPECT_TRUE(event.at("created").is_int64());
  const json::object& object = event.at("data").at("object").as_object();
  EXPECT_EQ(object.at("id").as_string(), intent.id);
  EXPECT_EQ(object.at("object").as_string(), "payment_intent");
  EXPECT_EQ(object.at("amount").as_int64(), 4200);
  EXPECT_EQ(object.at("currency").as_string(), "usd");
  EXPECT_EQ(object.at("status").as_string(), "succeeded");
  EXPECT_EQ(object.at("metadata").at("order_id").as_string(), std::to_string(order));
  EXPECT_TRUE(object.at("last_payment_error").is_null());

  // What the marketplace reads from it, once signed and delivered.
  const std::string header = auth::SignWebhook(
      kSecret, std::chrono::system_clock::to_time_t(clock_.Now()), events[0].second);
  auto parsed = gateway_.ParseWebhook(header, events[0].second, clock_.Now());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->id, std::string(event.at("id").as_string()));
  EXPECT_EQ(parsed->type, "payment_intent.succeeded");
  EXPECT_EQ(parsed->kind, PaymentEvent::Kind::kSucceeded);
  EXPECT_EQ(parsed->intent_id, intent.id);
  EXPECT_EQ(parsed->amount_cents, 4200);
  EXPECT_EQ(parsed->currency, "USD");
  ASSERT_TRUE(parsed->order.has_value());
  EXPECT_EQ(parsed->order->value, order);
  EXPECT_EQ(parsed->failure_code, "");

  // And it is delivered at once, signed.
  const std::string event_id(event.at("id").as_string());
  ASSERT_TRUE(Eventually([&] { return Delivered(event_id); }));
  ASSERT_EQ(receiver_.CountOf(event_id), 1);
  for (const auto& delivery : receiver_.deliveries) {
    if (delivery.event_id != event_id) continue;
    EXPECT_TRUE(delivery.signature_ok);
    EXPECT_EQ(delivery.body, events[0].second);
    EXPECT_EQ(delivery.content_type, "application/json");
  }
}

TEST_F(LocalGatewayTest, DeclinedCardLeavesTheIntentToBeConfirmedAgain) {
  PaymentIntent intent = NewIntent();
  auto declined = Confirm(intent, "4000 0000 0000 0002");
  ASSERT_FALSE(declined.ok());
  EXPECT_EQ(declined.error().code, ErrorCode::kPaymentDeclined);
  EXPECT_EQ(Status(intent.id), "requires_payment_method");
  EXPECT_EQ(Query("SELECT last_error_code FROM local_payment_intents WHERE id = $1", intent.id)
                .String(0, "last_error_code"),
            "card_declined");

  auto events = Events(intent.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "payment_intent.payment_failed");
  const std::string header = auth::SignWebhook(
      kSecret, std::chrono::system_clock::to_time_t(clock_.Now()), events[0].second);
  auto parsed = gateway_.ParseWebhook(header, events[0].second, clock_.Now());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->kind, PaymentEvent::Kind::kFailed);
  EXPECT_EQ(parsed->failure_code, "card_declined");
  EXPECT_EQ(parsed->intent_id, intent.id);

  auto paid = Confirm(intent, "4242424242424242");
  ASSERT_TRUE(paid.ok());
  EXPECT_EQ(paid->status, "succeeded");
  EXPECT_EQ(Query("SELECT count(*) AS n FROM local_payment_intents WHERE id = $1 AND "
                  "last_error_code IS NULL",
                  intent.id)
                .Int(0, "n"),
            1);
  events = Events(intent.id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].first, "payment_intent.succeeded");
}

TEST_F(LocalGatewayTest, InsufficientFundsCardFailsWithItsCode) {
  PaymentIntent intent = NewIntent();
  auto declined = Confirm(intent, "4000000000009995");
  ASSERT_FALSE(declined.ok());
  EXPECT_EQ(declined.error().code, ErrorCode::kInsufficientFunds);
  EXPECT_EQ(Status(intent.id), "requires_payment_method");
  auto events = Events(intent.id);
  ASSERT_EQ(events.size(), 1u);
  json::object event = json::parse(events[0].second).as_object();
  EXPECT_EQ(event.at("data").at("object").at("last_payment_error").at("code").as_string(),
            "insufficient_funds");
}

TEST_F(LocalGatewayTest, OtherValidCardsAreDeclinedInTestMode) {
  PaymentIntent intent = NewIntent();
  auto declined = Confirm(intent, "5555 5555 5555 4444");
  ASSERT_FALSE(declined.ok());
  EXPECT_EQ(declined.error().code, ErrorCode::kPaymentDeclined);
  EXPECT_EQ(Status(intent.id), "requires_payment_method");
}

TEST_F(LocalGatewayTest, MalformedCardsAreValidationErrorsThatChangeNothing) {
  PaymentIntent intent = NewIntent();
  auto fields_of = [&](CardDetails card) {
    auto result = RunTask(io_, gateway_.Confirm(intent.id, card));
    EXPECT_FALSE(result.ok());
    std::set<std::string> fields;
    if (result.ok()) return fields;
    EXPECT_EQ(result.error().code, ErrorCode::kValidationFailed);
    for (const auto& field : result.error().fields) fields.insert(field.field);
    return fields;
  };
  using Fields = std::set<std::string>;
  const std::string secret = intent.client_secret;
  EXPECT_EQ(fields_of(Card(secret, "4242 4242 4242 4241")), Fields{"card_number"});  // Luhn
  EXPECT_EQ(fields_of(Card(secret, "4242-4242-4242-4242")), Fields{"card_number"});
  EXPECT_EQ(fields_of(Card(secret, "4242")), Fields{"card_number"});
  EXPECT_EQ(fields_of(Card(secret, "")), Fields{"card_number"});
  CardDetails card = Card(secret, "4242424242424242");
  card.exp_month = 13;
  EXPECT_EQ(fields_of(card), Fields{"exp_month"});
  card = Card(secret, "4242424242424242");
  card.exp_year = 2019;
  EXPECT_EQ(fields_of(card), Fields{"exp_year"});
  card = Card(secret, "4242424242424242");
  card.exp_year = 12345;
  EXPECT_EQ(fields_of(card), Fields{"exp_year"});
  // Expired last month of this year (or December of last year in January).
  const std::chrono::year_month_day today{std::chrono::floor<std::chrono::days>(clock_.Now())};
  const auto last_month =
      std::chrono::year_month{today.year(), today.month()} - std::chrono::months(1);
  card = Card(secret, "4242424242424242");
  card.exp_year = static_cast<int>(last_month.year());
  card.exp_month = static_cast<unsigned>(last_month.month());
  EXPECT_FALSE(fields_of(card).empty());
  card = Card(secret, "4242424242424242");
  card.cvc = "12";
  EXPECT_EQ(fields_of(card), Fields{"cvc"});
  card.cvc = "12a";
  EXPECT_EQ(fields_of(card), Fields{"cvc"});
  card = Card(secret, "1234");
  card.exp_month = 0;
  card.cvc = "";
  EXPECT_EQ(fields_of(card), (Fields{"card_number", "exp_month", "cvc"}));

  EXPECT_EQ(Status(intent.id), "requires_payment_method");
  EXPECT_TRUE(Events(intent.id).empty());

  // This month is still good, and a two-digit year means 20xx.
  card = Card(secret, "4242424242424242");
  card.exp_year = static_cast<int>(today.year()) % 100;
  card.exp_month = static_cast<unsigned>(today.month());
  auto paid = RunTask(io_, gateway_.Confirm(intent.id, card));
  EXPECT_TRUE(paid.ok());
}

TEST_F(LocalGatewayTest, WrongSecretOrUnknownIntentIsNotFound) {
  PaymentIntent intent = NewIntent();
  std::string wrong = intent.client_secret;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  auto bad_secret = RunTask(io_, gateway_.Confirm(intent.id, Card(wrong, "4242424242424242")));
  ASSERT_FALSE(bad_secret.ok());
  EXPECT_EQ(bad_secret.error().code, ErrorCode::kNotFound);
  auto empty_secret = RunTask(io_, gateway_.Confirm(intent.id, Card("", "4242424242424242")));
  ASSERT_FALSE(empty_secret.ok());
  EXPECT_EQ(empty_secret.error().code, ErrorCode::kNotFound);

  // Another intent's secret does not open this one.
  PaymentIntent other = NewIntent();
  auto crossed =
      RunTask(io_, gateway_.Confirm(intent.id, Card(other.client_secret, "4242424242424242")));
  ASSERT_FALSE(crossed.ok());
  EXPECT_EQ(crossed.error().code, ErrorCode::kNotFound);

  auto unknown = RunTask(
      io_, gateway_.Confirm("pi_local_nothing", Card(intent.client_secret, "4242424242424242")));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);

  EXPECT_EQ(Status(intent.id), "requires_payment_method");
  EXPECT_TRUE(Events(intent.id).empty());
}

TEST_F(LocalGatewayTest, SucceededOrCanceledIntentsCannotBeConfirmed) {
  PaymentIntent paid = Paid();
  auto again = Confirm(paid, "4242424242424242");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  auto declined_after = Confirm(paid, "4000000000000002");
  ASSERT_FALSE(declined_after.ok());
  EXPECT_EQ(declined_after.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Events(paid.id).size(), 1u);

  PaymentIntent canceled = NewIntent();
  ASSERT_TRUE(RunTask(io_, gateway_.CancelIntent(canceled.id)).ok());
  auto after_cancel = Confirm(canceled, "4242424242424242");
  ASSERT_FALSE(after_cancel.ok());
  EXPECT_EQ(after_cancel.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Status(canceled.id), "canceled");
}

TEST_F(LocalGatewayTest, ConcurrentConfirmsSucceedOnceWithOneEvent) {
  PaymentIntent intent = NewIntent();
  constexpr int kRacers = 8;
  std::vector<std::optional<Result<PaymentIntent>>> results(kRacers);
  for (int i = 0; i < kRacers; ++i) {
    asio::co_spawn(io_,
                   ConfirmInto(gateway_, intent.id, Card(intent.client_secret, "4242424242424242"),
                               results[i]),
                   asio::detached);
  }
  ASSERT_TRUE(Eventually([&] {
    return std::all_of(results.begin(), results.end(), [](const auto& r) { return r.has_value(); });
  }));
  int succeeded = 0, conflicts = 0;
  for (const auto& result : results) {
    if (result->ok()) {
      ++succeeded;
    } else if (result->error().code == ErrorCode::kConflict) {
      ++conflicts;
    }
  }
  EXPECT_EQ(succeeded, 1);
  EXPECT_EQ(conflicts, kRacers - 1);
  EXPECT_EQ(Status(intent.id), "succeeded");
  auto events = Events(intent.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "payment_intent.succeeded");
}

// ---- Cancel ----

TEST_F(LocalGatewayTest, CancelEndsAnUnpaidIntentOnce) {
  PaymentIntent intent = NewIntent();
  ASSERT_TRUE(RunTask(io_, gateway_.CancelIntent(intent.id)).ok());
  EXPECT_EQ(Status(intent.id), "canceled");
  ASSERT_TRUE(RunTask(io_, gateway_.CancelIntent(intent.id)).ok());
  auto events = Events(intent.id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "payment_intent.canceled");
  json::object event = json::parse(events[0].second).as_object();
  EXPECT_EQ(event.at("data").at("object").at("status").as_string(), "canceled");

  // After a decline too.
  PaymentIntent declined = NewIntent();
  ASSERT_FALSE(Confirm(declined, "4000000000000002").ok());
  ASSERT_TRUE(RunTask(io_, gateway_.CancelIntent(declined.id)).ok());
  EXPECT_EQ(Status(declined.id), "canceled");
}

TEST_F(LocalGatewayTest, CancelOfASucceededIntentIsAConflict) {
  PaymentIntent paid = Paid();
  auto canceled = RunTask(io_, gateway_.CancelIntent(paid.id));
  ASSERT_FALSE(canceled.ok());
  EXPECT_EQ(canceled.error().code, ErrorCode::kConflict);
  EXPECT_EQ(Status(paid.id), "succeeded");
  auto missing = RunTask(io_, gateway_.CancelIntent("pi_local_nothing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

// ---- Refunds ----

TEST_F(LocalGatewayTest, RefundsAreIdempotentAndNeverExceedThePayment) {
  PaymentIntent intent = Paid(1000);
  auto refund = [&](std::int64_t amount, std::string key) {
    services::RefundRequest request{.intent_id = intent.id,
                                    .amount_cents = amount,
                                    .reason = "requested_by_customer",
                                    .idempotency_key = std::move(key)};
    return RunTask(io_, gateway_.Refund(request));
  };
  const std::string prefix = "refund-" + RandomSuffix() + "-";
  auto first = refund(300, prefix + "a");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->id.starts_with("re_local_"));
  EXPECT_EQ(first->status, "succeeded");
  auto retried = refund(300, prefix + "a");
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->id, first->id);
  auto reused = refund(301, prefix + "a");
  ASSERT_FALSE(reused.ok());
  EXPECT_EQ(reused.error().code, ErrorCode::kConflict);

  auto too_much = refund(701, prefix + "b");
  ASSERT_FALSE(too_much.ok());
  EXPECT_EQ(too_much.error().code, ErrorCode::kConflict);
  auto rest = refund(700, prefix + "c");
  ASSERT_TRUE(rest.ok());
  EXPECT_NE(rest->id, first->id);
  auto one_more = refund(1, prefix + "d");
  ASSERT_FALSE(one_more.ok());
  EXPECT_EQ(one_more.error().code, ErrorCode::kConflict);
  auto zero = refund(0, prefix + "e");
  ASSERT_FALSE(zero.ok());

  EXPECT_EQ(Query("SELECT coalesce(sum(amount_cents), 0) AS n FROM local_payment_refunds "
                  "WHERE intent_id = $1",
                  intent.id)
                .Int(0, "n"),
            1000);
  EXPECT_EQ(Query("SELECT count(*) AS n FROM local_payment_refunds WHERE intent_id = $1", intent.id)
                .Int(0, "n"),
            2);
  auto events = Events(intent.id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].first, "charge.refunded");
  EXPECT_EQ(events[2].first, "charge.refunded");
  json::object last = json::parse(events[2].second).as_object();
  const json::object& charge = last.at("data").at("object").as_object();
  EXPECT_EQ(charge.at("object").as_string(), "charge");
  EXPECT_EQ(charge.at("payment_intent").as_string(), intent.id);
  EXPECT_EQ(charge.at("amount_refunded").as_int64(), 1000);
  EXPECT_TRUE(charge.at("refunded").as_bool());

  const std::string header = auth::SignWebhook(
      kSecret, std::chrono::system_clock::to_time_t(clock_.Now()), events[2].second);
  auto parsed = gateway_.ParseWebhook(header, events[2].second, clock_.Now());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->kind, PaymentEvent::Kind::kOther);
  EXPECT_EQ(parsed->type, "charge.refunded");
  EXPECT_EQ(parsed->intent_id, intent.id);
  EXPECT_EQ(parsed->currency, "USD");
}

TEST_F(LocalGatewayTest, OnlySucceededPaymentsCanBeRefunded) {
  PaymentIntent unpaid = NewIntent();
  services::RefundRequest request{.intent_id = unpaid.id,
                                  .amount_cents = 100,
                                  .reason = "x",
                                  .idempotency_key = "refund-" + RandomSuffix()};
  auto refused = RunTask(io_, gateway_.Refund(request));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  request.intent_id = "pi_local_nothing";
  auto missing = RunTask(io_, gateway_.Refund(request));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(LocalGatewayTest, ConcurrentRefundsWithOneKeyPayOnce) {
  PaymentIntent intent = Paid(1000);
  services::RefundRequest request{.intent_id = intent.id,
                                  .amount_cents = 1000,
                                  .reason = "cancelled",
                                  .idempotency_key = "refund-" + RandomSuffix()};
  constexpr int kRacers = 5;
  std::vector<std::optional<Result<services::RefundResult>>> results(kRacers);
  for (int i = 0; i < kRacers; ++i) {
    auto run = [](LocalGateway& gateway, services::RefundRequest request,
                  std::optional<Result<services::RefundResult>>& out) -> Task<void> {
      out.emplace(co_await gateway.Refund(request));
    };
    asio::co_spawn(io_, run(gateway_, request, results[i]), asio::detached);
  }
  ASSERT_TRUE(Eventually([&] {
    return std::all_of(results.begin(), results.end(), [](const auto& r) { return r.has_value(); });
  }));
  std::set<std::string> ids;
  for (const auto& result : results) {
    ASSERT_TRUE(result->ok()) << result->error().message;
    ids.insert((*result)->id);
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(Query("SELECT count(*) AS n FROM local_payment_refunds WHERE intent_id = $1", intent.id)
                .Int(0, "n"),
            1);
}

// ---- Webhooks ----

TEST_F(LocalGatewayTest, ParseWebhookChecksTheSignatureBeforeTheBody) {
  const std::string body = "not json";
  const std::int64_t now = std::chrono::system_clock::to_time_t(clock_.Now());
  auto unsigned_body = gateway_.ParseWebhook("", body, clock_.Now());
  ASSERT_FALSE(unsigned_body.ok());
  EXPECT_EQ(unsigned_body.error().code, ErrorCode::kInvalidSignature);
  auto wrong_secret =
      gateway_.ParseWebhook(auth::SignWebhook("other", now, body), body, clock_.Now());
  ASSERT_FALSE(wrong_secret.ok());
  EXPECT_EQ(wrong_secret.error().code, ErrorCode::kInvalidSignature);
  auto old = gateway_.ParseWebhook(auth::SignWebhook(kSecret, now - 600, body), body, clock_.Now());
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ErrorCode::kInvalidSignature);

  for (const std::string& bad : {std::string("not json"), std::string("[]"), std::string("{}"),
                                 std::string(R"({"id":"evt_1"})"),
                                 std::string(R"({"id":"evt_1","type":"payment_intent.succeeded"})"),
                                 std::string(R"({"id":"evt_1","type":"payment_intent.succeeded",
                                    "data":{"object":{"object":"payment_intent","id":"pi_1"}}})")}) {
    SCOPED_TRACE(bad);
    auto parsed = gateway_.ParseWebhook(auth::SignWebhook(kSecret, now, bad), bad, clock_.Now());
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().code, ErrorCode::kBadRequest);
  }

  // An event type the marketplace does not handle is still an event.
  const std::string other = R"({"id":"evt_2","type":"customer.created","data":{"object":{}}})";
  auto parsed = gateway_.ParseWebhook(auth::SignWebhook(kSecret, now, other), other, clock_.Now());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->kind, PaymentEvent::Kind::kOther);
  EXPECT_EQ(parsed->id, "evt_2");
  EXPECT_FALSE(parsed->order.has_value());
}

TEST_F(LocalGatewayTest, FailedDeliveryBecomesAJobRetriedOnTheEventsBackoffUntilA2xx) {
  PaymentIntent intent = NewIntent();
  receiver_.fail_first[intent.id] = 1;
  auto paid = Confirm(intent, "4242424242424242");
  ASSERT_TRUE(paid.ok());
  const std::string event_id = EventId(intent.id, "payment_intent.succeeded");
  ASSERT_TRUE(Eventually([&] { return receiver_.CountOf(event_id) == 1; }));
  ASSERT_TRUE(Eventually([&] { return DeliveryJob(event_id).has_value(); }));
  auto row = Query(
      "SELECT attempts, last_error, delivered_at IS NULL AS pending, "
      "extract(epoch FROM next_attempt_at - created_at)::float8 AS wait "
      "FROM local_webhook_events WHERE id = $1",
      event_id);
  EXPECT_EQ(row.Int(0, "attempts"), 1);
  EXPECT_EQ(row.String(0, "last_error"), "HTTP 500");
  EXPECT_TRUE(row.Bool(0, "pending"));
  // Due again about a second later, not at once; the job with it.
  const double wait = std::stod(row.String(0, "wait"));
  EXPECT_GE(wait, 0.9);
  EXPECT_LT(wait, 5.0);
  auto job = DeliveryJob(event_id);
  EXPECT_EQ(job->first, "queued");
  EXPECT_GT(job->second, 0.0);
  EXPECT_LT(job->second, 5.0);

  // Too early: nothing is sent, and the job is told when to come back.
  DeliveryAttempt early = Attempt(event_id);
  EXPECT_EQ(early.kind, DeliveryAttempt::Kind::kRetry);
  EXPECT_GT(early.retry_in, 0ms);
  EXPECT_LE(early.retry_in, 5s);
  EXPECT_EQ(receiver_.CountOf(event_id), 1);

  clock_.offset += 2s;
  EXPECT_EQ(Attempt(event_id).kind, DeliveryAttempt::Kind::kDelivered);
  ASSERT_TRUE(Delivered(event_id));
  EXPECT_EQ(receiver_.CountOf(event_id), 2);
  EXPECT_EQ(receiver_.CountOf(event_id, 200), 1);
  for (const auto& delivery : receiver_.deliveries) {
    if (delivery.event_id == event_id) {
      EXPECT_TRUE(delivery.signature_ok);
    }
  }
  EXPECT_EQ(
      Query("SELECT attempts FROM local_webhook_events WHERE id = $1", event_id).Int(0, "attempts"),
      2);

  // Acknowledged: never sent again, however much later.
  clock_.offset += 5h;
  EXPECT_EQ(Attempt(event_id).kind, DeliveryAttempt::Kind::kSettled);
  io_.restart();
  io_.run_for(50ms);
  EXPECT_EQ(receiver_.CountOf(event_id), 2);
}

TEST_F(LocalGatewayTest, DeliveredImmediatelyMeansNoJob) {
  PaymentIntent intent = Paid();
  const std::string event_id = EventId(intent.id, "payment_intent.succeeded");
  ASSERT_TRUE(Eventually([&] { return Delivered(event_id); }));
  EXPECT_FALSE(DeliveryJob(event_id).has_value());
  EXPECT_EQ(Attempt(event_id).kind, DeliveryAttempt::Kind::kSettled);
  EXPECT_EQ(Attempt("evt_local_nosuchevent").kind, DeliveryAttempt::Kind::kUnknown);
}

TEST_F(LocalGatewayTest, ConcurrentDeliverersSendEachEventOnce) {
  std::vector<std::string> event_ids;
  for (int i = 0; i < 6; ++i) {
    PaymentIntent intent = NewIntent();
    receiver_.fail_first[intent.id] = 1;
    ASSERT_TRUE(RunTask(io_, gateway_.CancelIntent(intent.id)).ok());
    event_ids.push_back(EventId(intent.id, "payment_intent.canceled"));
  }
  ASSERT_TRUE(Eventually([&] {
    return std::all_of(event_ids.begin(), event_ids.end(),
                       [&](const std::string& id) { return receiver_.CountOf(id) == 1; });
  }));
  // Let the failures be recorded before time moves on.
  ASSERT_TRUE(Eventually([&] { return gateway_.deliveries_in_flight() == 0; }));

  clock_.offset += 2s;
  std::vector<std::optional<DeliveryAttempt>> attempts(event_ids.size() * 4);
  for (std::size_t i = 0; i < attempts.size(); ++i)
    asio::co_spawn(io_, DeliverInto(gateway_, event_ids[i % event_ids.size()], attempts[i]),
                   asio::detached);
  ASSERT_TRUE(Eventually([&] {
    return std::all_of(attempts.begin(), attempts.end(), [](const auto& a) { return a; });
  }));
  for (std::size_t e = 0; e < event_ids.size(); ++e) {
    SCOPED_TRACE(event_ids[e]);
    EXPECT_TRUE(Delivered(event_ids[e]));
    EXPECT_EQ(receiver_.CountOf(event_ids[e]), 2);
    EXPECT_EQ(receiver_.CountOf(event_ids[e], 200), 1);
    int delivered = 0;
    for (std::size_t i = e; i < attempts.size(); i += event_ids.size()) {
      if (attempts[i]->kind == DeliveryAttempt::Kind::kDelivered) ++delivered;
    }
    EXPECT_EQ(delivered, 1);
  }
}

// An immediate delivery that finds its event claimed by a delivery job first has nothing to do,
// and must still count itself out: shutdown waits for the count to reach zero (it once stayed at
// 1 and a server hung in its drain until killed).
TEST_F(LocalGatewayTest, DeliveriesInFlightCountBackToZeroWhenJobsWinTheClaim) {
  constexpr int kIntents = 20;
  std::vector<PaymentIntent> intents;
  for (int i = 0; i < kIntents; ++i) intents.push_back(NewIntent());
  std::vector<std::string> intent_ids;
  for (const auto& intent : intents) intent_ids.push_back(intent.id);
  std::vector<std::optional<Result<void>>> cancelled(kIntents);
  for (int i = 0; i < kIntents; ++i)
    asio::co_spawn(io_, CancelInto(gateway_, intents[i].id, cancelled[i]), asio::detached);
  // Jobs racing the immediate deliveries for each event as soon as it is committed.
  std::set<std::string> attempted;
  std::vector<std::unique_ptr<std::optional<DeliveryAttempt>>> attempts;
  ASSERT_TRUE(Eventually([&] {
    auto rows = RunTask(
        io_, pool_.Execute(pg::Statement{"test.gateway.events_of",
                                         "SELECT id FROM local_webhook_events WHERE intent_id "
                                         "= ANY($1::text[])"},
                           pg::Params(TextArray(intent_ids))));
    for (int r = 0; r < rows.size(); ++r) {
      const std::string id = rows.String(r, "id");
      if (!attempted.insert(id).second) continue;
      attempts.push_back(std::make_unique<std::optional<DeliveryAttempt>>());
      asio::co_spawn(io_, DeliverInto(gateway_, id, *attempts.back()), asio::detached);
    }
    return std::all_of(cancelled.begin(), cancelled.end(), [](const auto& c) { return c; }) &&
           attempted.size() == kIntents &&
           std::all_of(attempts.begin(), attempts.end(), [](const auto& a) { return *a; });
  }));
  for (const auto& intent : intents) {
    SCOPED_TRACE(intent.id);
    const std::string event_id = EventId(intent.id, "payment_intent.canceled");
    ASSERT_TRUE(Eventually([&] { return Delivered(event_id); }));
    EXPECT_EQ(receiver_.CountOf(event_id), 1) << "delivered once, by whoever claimed it";
  }
  EXPECT_TRUE(Eventually([&] { return gateway_.deliveries_in_flight() == 0; }))
      << gateway_.deliveries_in_flight() << " still counted in flight";
}

TEST_F(LocalGatewayTest, DeliveryGivesUpAfterThreeDaysAndARetryMakesOneMoreAttempt) {
  PaymentIntent intent = NewIntent();
  receiver_.fail_first[intent.id] = 1000;
  ASSERT_TRUE(RunTask(io_, gateway_.CancelIntent(intent.id)).ok());
  const std::string event_id = EventId(intent.id, "payment_intent.canceled");
  ASSERT_TRUE(Eventually([&] { return DeliveryJob(event_id).has_value(); }));
  clock_.offset += std::chrono::hours(24 * 3) + 1min;
  DeliveryAttempt last = Attempt(event_id);
  EXPECT_EQ(last.kind, DeliveryAttempt::Kind::kGivenUp);
  EXPECT_EQ(last.error, "HTTP 500");
  auto row = Query(
      "SELECT failed_at IS NOT NULL AS failed, delivered_at IS NULL AS undelivered, attempts "
      "FROM local_webhook_events WHERE id = $1",
      event_id);
  EXPECT_TRUE(row.Bool(0, "failed"));
  EXPECT_TRUE(row.Bool(0, "undelivered"));
  EXPECT_EQ(row.Int(0, "attempts"), 2);
  // Given up: not stranded, so nothing queues it again by itself.
  RunTask(io_, pool_.Execute(pg::Statement{"test.gateway.drop_job",
                                           "DELETE FROM jobs WHERE unique_key = "
                                           "'deliver_webhooks:' || $1"},
                             pg::Params(event_id)));
  clock_.offset += 10h;
  for (int round = 0; round < 3; ++round) RunTask(io_, gateway_.QueueStranded(500));
  EXPECT_FALSE(DeliveryJob(event_id).has_value());
  EXPECT_EQ(receiver_.CountOf(event_id), 2);
  // `jobs retry` of the dead job: one more attempt, given up again since it failed.
  EXPECT_EQ(Attempt(event_id).kind, DeliveryAttempt::Kind::kGivenUp);
  EXPECT_EQ(receiver_.CountOf(event_id), 3);
}

// The process that wrote an event died before it could deliver it or queue a job for it.
TEST_F(LocalGatewayTest, StrandedEventsAreQueuedOnce) {
  PaymentIntent intent = NewIntent();
  receiver_.fail_first[intent.id] = 1;
  ASSERT_TRUE(RunTask(io_, gateway_.CancelIntent(intent.id)).ok());
  const std::string event_id = EventId(intent.id, "payment_intent.canceled");
  ASSERT_TRUE(Eventually([&] { return DeliveryJob(event_id).has_value(); }));
  RunTask(io_, pool_.Execute(pg::Statement{"test.gateway.drop_job",
                                           "DELETE FROM jobs WHERE unique_key = "
                                           "'deliver_webhooks:' || $1"},
                             pg::Params(event_id)));
  // Due, but not for long enough to be stranded: an attempt may still be on its way.
  clock_.offset += 10s;
  RunTask(io_, gateway_.QueueStranded(500));
  EXPECT_FALSE(DeliveryJob(event_id).has_value());

  clock_.offset += 2min;
  RunTask(io_, gateway_.QueueStranded(500));
  auto job = DeliveryJob(event_id);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->first, "queued");
  // Queued once however often the sweep runs.
  RunTask(io_, gateway_.QueueStranded(500));
  EXPECT_EQ(
      Query("SELECT count(*) AS n FROM jobs WHERE unique_key = 'deliver_webhooks:' || $1", event_id)
          .Int(0, "n"),
      1);
  EXPECT_EQ(Attempt(event_id).kind, DeliveryAttempt::Kind::kDelivered);
}

// The deliver_webhooks handlers run by a real worker over the real queue.
TEST_F(LocalGatewayTest, WorkerDeliversTheQueuedJobAndBuriesBadOnes) {
  jobs::MaintenanceMetrics maintenance_metrics;
  jobs::JobMetrics job_metrics;
  jobs::HandlerRegistry handlers;
  jobs::AddDeliveryHandlers(handlers, gateway_, maintenance_metrics);
  jobs::Worker worker(
      io_.get_executor(), jobs_queue_, handlers,
      jobs::WorkerOptions{
          .name = "gateway-test-" + RandomSuffix(), .concurrency = 4, .poll_interval = 50ms},
      job_metrics);
  bool finished = false;
  asio::co_spawn(io_, worker.Run(), [&finished](std::exception_ptr) { finished = true; });

  PaymentIntent intent = NewIntent();
  receiver_.fail_first[intent.id] = 1;
  ASSERT_TRUE(RunTask(io_, gateway_.CancelIntent(intent.id)).ok());
  const std::string event_id = EventId(intent.id, "payment_intent.canceled");
  // The job is due about a second after the failed attempt, by the real clock.
  EXPECT_TRUE(Eventually([&] { return Delivered(event_id); }, 15s));
  EXPECT_EQ(receiver_.CountOf(event_id), 2);
  EXPECT_TRUE(Eventually([&] {
    return Query("SELECT status FROM jobs WHERE unique_key = 'deliver_webhooks:' || $1", event_id)
               .String(0, "status") == "succeeded";
  }));
  // At least ours: the worker also runs what other tests of the shared database left queued.
  EXPECT_GE(maintenance_metrics.items("deliver_webhooks", "delivered"), 1);

  // A payload without an event, and an event that does not exist: dead at once.
  const std::string bad_key = "test-bad-" + RandomSuffix();
  const std::vector<std::string> payloads = {R"({"event":"x"})",
                                             R"({"event_id":"evt_local_none"})"};
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    services::NewJob bad{.kind = "deliver_webhooks",
                         .payload = payloads[i],
                         .unique_key = bad_key + "-" + std::to_string(i)};
    RunTask(io_, jobs_queue_.Enqueue(bad));
  }
  EXPECT_TRUE(Eventually([&] {
    return Query(
               "SELECT count(*) AS n FROM jobs WHERE unique_key LIKE $1 || '%' AND status = "
               "'dead' AND attempts = 1",
               bad_key)
               .Int(0, "n") == 2;
  }));
  RunTask(io_, pool_.Execute(pg::Statement{"test.gateway.drop_bad",
                                           "DELETE FROM jobs WHERE unique_key LIKE $1 || '%'"},
                             pg::Params(bad_key)));
  worker.Stop();
  EXPECT_TRUE(Eventually([&] { return finished; }));
}

// ---- HTTP client ----

TEST_F(LocalGatewayTest, HttpClientFailsFastOnARefusedConnection) {
  std::uint16_t port = 0;
  {
    tcp::acceptor probe(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  http::Client client;
  http::ClientHeaders headers;
  EXPECT_THROW(RunTask(io_, client.Post(url, headers, "{}", 2s)), ServiceUnavailable);
}

TEST_F(LocalGatewayTest, HttpClientTimesOutOnASilentServer) {
  // Accepts (the kernel's backlog does) but never answers.
  tcp::acceptor silent(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const std::string url =
      "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/";
  http::Client client;
  http::ClientHeaders headers;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(RunTask(io_, client.Post(url, headers, "{}", 300ms)), ServiceUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(LocalGatewayTest, HttpClientReturnsAnyStatusWithItsBody) {
  receiver_.fail_first["pi_http_client"] = 1;
  const std::string body = R"({"id":"evt_http_client","data":{"object":{"id":"pi_http_client"}}})";
  http::Client client;
  http::ClientHeaders headers;
  headers.emplace_back("Content-Type", "application/json");
  auto failed = RunTask(io_, client.Post(receiver_.url(), headers, body, 2s));
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.body, R"({"received":true})");
  auto ok = RunTask(io_, client.Post(receiver_.url(), headers, body, 2s));
  EXPECT_EQ(ok.status, 200);
  ASSERT_EQ(receiver_.CountOf("evt_http_client"), 2);
  EXPECT_EQ(receiver_.deliveries.back().content_type, "application/json");
}

// ---- The confirm endpoint ----

http::Response Dispatch(asio::io_context& io, const http::Router& router, std::string path,
                        std::string body, std::string content_type = "application/json") {
  http::Request request{.method = http::Method::kPost, .target = path, .path = path};
  request.headers.emplace_back("content-type", std::move(content_type));
  request.body = std::move(body);
  return RunTask(io, router.Dispatch(request));
}

std::string ConfirmBody(const std::string& secret, std::string_view number,
                        std::string_view extra = "") {
  return R"({"client_secret":")" + secret + R"(","card_number":")" + std::string(number) +
         R"(","exp_month":12,"exp_year":)" + std::to_string(GoodYear()) + R"(,"cvc":"123")" +
         std::string(extra) + "}";
}

TEST_F(LocalGatewayTest, KeptAliveClientSendsOverOneConnection) {
  http::Client client;
  http::ClientHeaders headers;
  headers.emplace_back("Content-Type", "application/json");
  for (int i = 0; i < 3; ++i) {
    auto answered = RunTask(io_, client.Post(receiver_.url(), headers, "{}", 2s));
    EXPECT_EQ(answered.status, 200);
  }
  EXPECT_EQ(receiver_.connections, 1);
  EXPECT_EQ(client.idle_connections(), 1u);
}

TEST_F(LocalGatewayTest, KeptAliveClientReconnectsWhenTheServerClosedItsConnection) {
  http::Client client;
  http::ClientHeaders headers;
  headers.emplace_back("Content-Type", "application/json");
  receiver_.close_each = true;  // answers, then closes: the kept connection is dead next time
  for (int i = 0; i < 4; ++i) {
    auto answered = RunTask(io_, client.Post(receiver_.url(), headers, "{}", 2s));
    EXPECT_EQ(answered.status, 200) << "request " << i;
  }
  EXPECT_EQ(receiver_.connections, 4);
  EXPECT_EQ(static_cast<int>(receiver_.deliveries.size()), 4) << "each request arrived once";
  // Nothing listening any more: a failure, not a hang or a retry loop.
  const std::string url = receiver_.url();
  receiver_.Close();
  EXPECT_THROW(RunTask(io_, client.Post(url, headers, "{}", 2s)), ServiceUnavailable);
}

TEST_F(LocalGatewayTest, ConfirmEndpointAnswersEachOutcome) {
  http::Router router;
  handlers::AddLocalGatewayRoutes(router, gateway_);
  PaymentIntent intent = NewIntent(1234);
  const std::string path = "/api/v1/payments/local/intents/" + intent.id + "/confirm";

  auto wrong = Dispatch(io_, router, path, ConfirmBody("nope", "4242424242424242"));
  EXPECT_EQ(wrong.status, 404);
  auto unknown = Dispatch(io_, router, "/api/v1/payments/local/intents/pi_x/confirm",
                          ConfirmBody(intent.client_secret, "4242424242424242"));
  EXPECT_EQ(unknown.status, 404);
  auto not_json = Dispatch(io_, router, path, "{", "application/json");
  EXPECT_EQ(not_json.status, 400);
  auto form = Dispatch(io_, router, path, "a=b", "application/x-www-form-urlencoded");
  EXPECT_EQ(form.status, 415);
  auto extra = Dispatch(io_, router, path,
                        ConfirmBody(intent.client_secret, "4242424242424242", R"(,"amount":1)"));
  EXPECT_EQ(extra.status, 422);
  EXPECT_NE(extra.body.find("amount"), std::string::npos);
  auto wrong_types = Dispatch(
      io_, router, path,
      R"({"client_secret":")" + intent.client_secret +
          R"(","card_number":4242424242424242,"exp_month":"12","exp_year":2030.5,"cvc":123})");
  EXPECT_EQ(wrong_types.status, 422);
  for (const char* field : {"card_number", "exp_month", "exp_year", "cvc"})
    EXPECT_NE(wrong_types.body.find(field), std::string::npos) << field;
  auto luhn = Dispatch(io_, router, path, ConfirmBody(intent.client_secret, "4242424242424241"));
  EXPECT_EQ(luhn.status, 422);

  auto declined =
      Dispatch(io_, router, path, ConfirmBody(intent.client_secret, "4000 0000 0000 0002"));
  EXPECT_EQ(declined.status, 402);
  EXPECT_NE(declined.body.find("card_declined"), std::string::npos);
  auto poor = Dispatch(io_, router, path, ConfirmBody(intent.client_secret, "4000000000009995"));
  EXPECT_EQ(poor.status, 402);
  EXPECT_NE(poor.body.find("insufficient_funds"), std::string::npos);

  auto paid = Dispatch(io_, router, path, ConfirmBody(intent.client_secret, "4242 4242 4242 4242"));
  ASSERT_EQ(paid.status, 200) << paid.body;
  json::object answer = json::parse(paid.body).as_object();
  EXPECT_EQ(answer.at("id").as_string(), intent.id);
  EXPECT_EQ(answer.at("status").as_string(), "succeeded");
  EXPECT_EQ(answer.at("amount_cents").as_int64(), 1234);
  EXPECT_EQ(answer.at("currency").as_string(), "USD");
  EXPECT_EQ(answer.size(), 4u);

  auto again = Dispatch(io_, router, path, ConfirmBody(intent.client_secret, "4242424242424242"));
  EXPECT_EQ(again.status, 409);
}

}  // namespace
}  // namespace market
