#include "clients/payments/local_gateway.hpp"

#include <openssl/crypto.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "auth/webhook_signature.hpp"
#include "clients/payments/stripe_events.hpp"
#include "common/text.hpp"
#include "common/unavailable.hpp"
#include "http/client.hpp"
#include "storage/pg/params.hpp"

namespace market::clients {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using pg::Params;
using pg::QueryResult;
using pg::Statement;
using services::PaymentEvent;
using services::PaymentIntent;

constexpr std::string_view kRequiresPaymentMethod = "requires_payment_method";
constexpr std::string_view kProcessing = "processing";
constexpr std::string_view kSucceeded = "succeeded";
constexpr std::string_view kCanceled = "canceled";

constexpr std::chrono::seconds kMaxBackoff = std::chrono::hours(1);
constexpr std::chrono::hours kGiveUpAfter{3 * 24};
// A claimed event is not due again before its delivery attempt can have ended.
constexpr std::chrono::seconds kLeaseMargin{5};
// Due this long with no attempt: whoever was to deliver it died first.
constexpr std::chrono::minutes kStrandedAfter{1};
// The job's own bound, above the ~80 attempts of 3 days at most 1 h apart: the event's age
// decides when delivery is given up.
constexpr int kDeliveryJobAttempts = 200;

#define INTENT_COLUMNS                                                                   \
  "id, client_secret, amount_cents, amount_refunded_cents, currency, status, order_id, " \
  "idempotency_key, last_error_code"

constexpr Statement kInsertIntent{
    "local_gateway.insert_intent",
    "INSERT INTO local_payment_intents (id, client_secret, amount_cents, currency, order_id, "
    "idempotency_key, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING " INTENT_COLUMNS};

constexpr Statement kIntentByKey{"local_gateway.intent_by_key",
                                 "SELECT " INTENT_COLUMNS
                                 " FROM local_payment_intents WHERE idempotency_key = $1"};

constexpr Statement kIntentById{"local_gateway.intent_by_id",
                                "SELECT " INTENT_COLUMNS
                                " FROM local_payment_intents WHERE id = $1"};

// Confirms, cancels and refunds of one intent take turns on its row.
constexpr Statement kLockIntent{"local_gateway.lock_intent",
                                "SELECT " INTENT_COLUMNS
                                " FROM local_payment_intents WHERE id = $1 FOR UPDATE"};

constexpr Statement kSetStatus{
    "local_gateway.set_status",
    "UPDATE local_payment_intents SET status = $2, last_error_code = $3, updated_at = $4 "
    "WHERE id = $1 RETURNING " INTENT_COLUMNS};

constexpr Statement kAddRefunded{
    "local_gateway.add_refunded",
    "UPDATE local_payment_intents SET amount_refunded_cents = amount_refunded_cents + $2, "
    "updated_at = $3 WHERE id = $1 RETURNING " INTENT_COLUMNS};

#undef INTENT_COLUMNS

constexpr Statement kRefundByKey{
    "local_gateway.refund_by_key",
    "SELECT id, intent_id, amount_cents FROM local_payment_refunds WHERE idempotency_key = $1"};

constexpr Statement kInsertRefund{
    "local_gateway.insert_refund",
    "INSERT INTO local_payment_refunds (id, intent_id, amount_cents, reason, idempotency_key, "
    "created_at) VALUES ($1, $2, $3, $4, $5, $6)"};

constexpr Statement kInsertEvent{
    "local_gateway.insert_event",
    "INSERT INTO local_webhook_events (id, type, intent_id, payload, next_attempt_at, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $5)"};

// The same for one event, just written: nothing if another deliverer got to it first.
constexpr Statement kClaimOne{
    "local_gateway.claim_one",
    "UPDATE local_webhook_events SET attempts = attempts + 1, next_attempt_at = $3 "
    "WHERE id = $1 AND delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 "
    "RETURNING id, payload, attempts"};

// A delivery job's claim: also of an event given up (the job was retried by hand), which then
// gets one more attempt.
constexpr Statement kClaimForJob{
    "local_gateway.claim_for_job",
    "UPDATE local_webhook_events SET attempts = attempts + 1, next_attempt_at = $3, "
    "failed_at = NULL WHERE id = $1 AND delivered_at IS NULL AND next_attempt_at <= $2 "
    "RETURNING id, payload, attempts"};

constexpr Statement kEventState{
    "local_gateway.event_state",
    "SELECT delivered_at IS NOT NULL AS delivered, next_attempt_at FROM local_webhook_events "
    "WHERE id = $1"};

// $1 the time before which a due event is stranded, $2 how many.
constexpr Statement kStranded{
    "local_gateway.stranded",
    "SELECT id, next_attempt_at FROM local_webhook_events WHERE delivered_at IS NULL AND "
    "failed_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2"};

constexpr Statement kMarkDelivered{
    "local_gateway.mark_delivered",
    "UPDATE local_webhook_events SET delivered_at = $2, last_error = NULL "
    "WHERE id = $1 AND delivered_at IS NULL"};

// $3 the next attempt; $4 the creation time before which the event is given up; $5 now.
constexpr Statement kMarkFailedAttempt{
    "local_gateway.mark_failed_attempt",
    "UPDATE local_webhook_events SET last_error = $2, next_attempt_at = $3, "
    "failed_at = CASE WHEN created_at <= $4 THEN $5::timestamptz END "
    "WHERE id = $1 AND delivered_at IS NULL RETURNING failed_at IS NOT NULL AS given_up"};

// The gateway's view of an intent, with what only it keeps.
struct IntentRow {
  PaymentIntent intent;
  std::int64_t amount_refunded_cents = 0;
  std::optional<std::int64_t> order_id;
  std::optional<std::string> idempotency_key;
  std::optional<std::string> last_error_code;
};

IntentRow IntentFromRow(const QueryResult& rows, int r) {
  return IntentRow{.intent = PaymentIntent{.id = rows.String(r, "id"),
                                           .client_secret = rows.String(r, "client_secret"),
                                           .amount_cents = rows.Int(r, "amount_cents"),
                                           .currency = rows.String(r, "currency"),
                                           .status = rows.String(r, "status")},
                   .amount_refunded_cents = rows.Int(r, "amount_refunded_cents"),
                   .order_id = rows.OptInt(r, "order_id"),
                   .idempotency_key = rows.OptString(r, "idempotency_key"),
                   .last_error_code = rows.OptString(r, "last_error_code")};
}

std::string RandomToken(std::size_t length) {
  constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string token(length, '0');
  for (char& c : token) c = kBase62[randombytes_uniform(62)];
  return token;
}

std::string NewId(std::string_view prefix) { return std::string(prefix) + RandomToken(24); }

std::int64_t UnixSeconds(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

bool IsCurrency(std::string_view text) {
  return text.size() == 3 && std::all_of(text.begin(), text.end(), [](char c) {
           return std::isupper(static_cast<unsigned char>(c)) != 0;
         });
}

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> KeyParam(const std::string& key) {
  if (key.empty()) return std::nullopt;
  return key;
}

json::object Metadata(const IntentRow& row) {
  json::object metadata;
  if (row.order_id) metadata["order_id"] = std::to_string(*row.order_id);
  return metadata;
}

std::string_view DeclineMessage(std::string_view code) {
  return code == "insufficient_funds" ? "Your card has insufficient funds."
                                      : "Your card was declined.";
}

// Stripe's PaymentIntent object, as events carry it.
json::object IntentJson(const IntentRow& row) {
  json::value last_error = nullptr;
  if (row.last_error_code) {
    last_error = json::object{{"code", *row.last_error_code},
                              {"message", DeclineMessage(*row.last_error_code)}};
  }
  const bool paid = row.intent.status == kSucceeded;
  return json::object{{"id", row.intent.id},
                      {"object", "payment_intent"},
                      {"amount", row.intent.amount_cents},
                      {"amount_received", paid ? row.intent.amount_cents : 0},
                      {"currency", AsciiLower(row.intent.currency)},
                      {"status", row.intent.status},
                      {"metadata", Metadata(row)},
                      {"last_payment_error", std::move(last_error)}};
}

// Stripe's Charge object, as charge.* events carry it: the intent's one successful charge.
json::object ChargeJson(const IntentRow& row) {
  std::string charge_id = "ch_" + row.intent.id.substr(row.intent.id.find('_') + 1);
  return json::object{{"id", std::move(charge_id)},
                      {"object", "charge"},
                      {"amount", row.intent.amount_cents},
                      {"amount_refunded", row.amount_refunded_cents},
                      {"refunded", row.amount_refunded_cents == row.intent.amount_cents},
                      {"currency", AsciiLower(row.intent.currency)},
                      {"status", "succeeded"},
                      {"payment_intent", row.intent.id},
                      {"metadata", Metadata(row)}};
}

struct NewEvent {
  std::string id;
  std::string type;
  std::string payload;
};

NewEvent MakeEvent(std::string_view type, const IntentRow& row, TimePoint now) {
  NewEvent event{.id = NewId("evt_local_"), .type = std::string(type)};
  json::object object = type.starts_with("charge.") ? ChargeJson(row) : IntentJson(row);
  event.payload =
      json::serialize(json::object{{"id", event.id},
                                   {"object", "event"},
                                   {"type", event.type},
                                   {"created", UnixSeconds(now)},
                                   {"livemode", false},
                                   {"data", json::object{{"object", std::move(object)}}}});
  return event;
}

Task<void> InsertEvent(pg::Transaction& tx, const NewEvent& event, std::string_view intent_id,
                       TimePoint now) {
  co_await tx.Execute(kInsertEvent, Params(event.id, event.type, intent_id, event.payload, now));
}

// Moves the locked intent `row` to `status`, with its event of `event_type`, and commits: one
// round trip. The event describes the intent as the UPDATE leaves it.
Task<NewEvent> SetStatusAndCommit(pg::Transaction& tx, IntentRow row, std::string_view status,
                                  std::optional<std::string> error_code,
                                  std::string_view event_type, TimePoint now) {
  row.intent.status = std::string(status);
  row.last_error_code = error_code;
  NewEvent event = MakeEvent(event_type, row, now);
  std::vector<pg::Call> calls;
  calls.push_back(pg::Call{kSetStatus, Params(row.intent.id, status, error_code, now)});
  calls.push_back(
      pg::Call{kInsertEvent, Params(event.id, event.type, row.intent.id, event.payload, now)});
  co_await tx.ExecuteAllAndCommit(std::move(calls));
  co_return event;
}

// ---- Test cards ----

enum class CardOutcome { kApproved, kDeclined, kInsufficientFunds };

bool LuhnValid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

// Every problem with the card's fields, or what the test card does.
Result<CardOutcome> CheckCard(const CardDetails& card, TimePoint now) {
  std::vector<FieldError> errors;
  std::string digits;
  bool only_digits = true;
  for (char c : card.card_number) {
    if (c == ' ') continue;
    if (c < '0' || c > '9') only_digits = false;
    digits += c;
  }
  if (!only_digits || digits.size() < 12 || digits.size() > 19) {
    errors.push_back({"card_number", "must be 12 to 19 digits"});
  } else if (!LuhnValid(digits)) {
    errors.push_back({"card_number", "is not a valid card number"});
  }

  const std::chrono::year_month_day today{std::chrono::floor<std::chrono::days>(now)};
  const int this_year = static_cast<int>(today.year());
  const std::int64_t this_month = static_cast<unsigned>(today.month());
  std::int64_t year = card.exp_year;
  if (year >= 0 && year < 100) year += 2000;
  const bool month_ok = card.exp_month >= 1 && card.exp_month <= 12;
  const bool year_ok = year >= 2000 && year <= this_year + 50;
  if (!month_ok) errors.push_back({"exp_month", "must be 1 to 12"});
  if (!year_ok) errors.push_back({"exp_year", "is not a valid year"});
  if (month_ok && year_ok) {
    // A card is good through the last day of its expiry month.
    if (year < this_year) {
      errors.push_back({"exp_year", "the card has expired"});
    } else if (year == this_year && card.exp_month < this_month) {
      errors.push_back({"exp_month", "the card has expired"});
    }
  }

  const bool cvc_digits =
      std::all_of(card.cvc.begin(), card.cvc.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!cvc_digits || card.cvc.size() < 3 || card.cvc.size() > 4)
    errors.push_back({"cvc", "must be 3 or 4 digits"});

  if (!errors.empty()) return ValidationError(std::move(errors));
  // Test mode: only test cards exist. The classic success card pays; the insufficient-funds card
  // says so; every other valid number is declined, like 4000 0000 0000 0002.
  if (digits == "4242424242424242") return CardOutcome::kApproved;
  if (digits == "4000000000009995") return CardOutcome::kInsufficientFunds;
  return CardOutcome::kDeclined;
}

// One bad field, built outside any coroutine expression (g++ 12 and braced lists).
Error FieldProblem(std::string field, std::string message) {
  std::vector<FieldError> fields;
  fields.push_back(FieldError{.field = std::move(field), .message = std::move(message)});
  return ValidationError(std::move(fields));
}

Error NoSuchIntent() { return MakeError(ErrorCode::kNotFound, "No such payment intent."); }

std::chrono::seconds Backoff(std::int64_t attempts) {
  // 1 s after the first attempt, doubling, at most an hour.
  const std::int64_t exponent = std::clamp<std::int64_t>(attempts - 1, 0, 12);
  return std::min<std::chrono::seconds>(std::chrono::seconds(std::int64_t{1} << exponent),
                                        kMaxBackoff);
}

}  // namespace

struct LocalGateway::Claimed {
  std::string id;
  std::string payload;
  std::int64_t attempts = 0;

  static Claimed From(const QueryResult& rows) {
    return Claimed{.id = rows.String(0, "id"),
                   .payload = rows.String(0, "payload"),
                   .attempts = rows.Int(0, "attempts")};
  }
};

LocalGateway::LocalGateway(pg::Pool& pool, services::JobQueue& jobs, LocalGatewayOptions options,
                           const Clock& clock)
    : pool_(pool), jobs_(jobs), options_(std::move(options)), clock_(clock) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

Task<Result<PaymentIntent>> LocalGateway::CreateIntent(const services::CreateIntent& request) {
  const std::string currency = AsciiUpper(request.currency);
  if (request.amount_cents <= 0) co_return FieldProblem("amount_cents", "must be positive");
  if (!IsCurrency(currency)) co_return FieldProblem("currency", "must be an ISO 4217 code");

  const TimePoint now = clock_.Now();
  const std::string id = NewId("pi_local_");
  const std::string secret = id + "_secret_" + RandomToken(24);
  const std::optional<std::string> key = KeyParam(request.idempotency_key);
  QueryResult rows = co_await pool_.Execute(
      kInsertIntent,
      Params(id, secret, request.amount_cents, currency, request.order.value, key, now));
  if (rows.empty()) rows = co_await pool_.Execute(kIntentByKey, Params(key));
  // Inserted rows are never deleted, so a conflicting key always finds its intent.
  if (rows.empty()) throw std::logic_error("local gateway: intent of a taken key not found");
  IntentRow row = IntentFromRow(rows, 0);
  if (row.intent.amount_cents != request.amount_cents || row.intent.currency != currency ||
      row.order_id != request.order.value) {
    co_return MakeError(ErrorCode::kConflict,
                        "The idempotency key was used for another payment intent.");
  }
  co_return std::move(row.intent);
}

Task<Result<PaymentIntent>> LocalGateway::RetrieveIntent(std::string_view intent_id) {
  QueryResult rows = co_await pool_.Execute(kIntentById, Params(intent_id));
  if (rows.empty()) co_return NoSuchIntent();
  co_return IntentFromRow(rows, 0).intent;
}

Task<Result<void>> LocalGateway::CancelIntent(std::string_view intent_id) {
  const TimePoint now = clock_.Now();
  pg::Transaction tx = co_await pool_.BeginTransaction();
  QueryResult rows = co_await tx.Execute(kLockIntent, Params(intent_id));
  if (rows.empty()) co_return NoSuchIntent();
  const std::string status = rows.String(0, "status");
  if (status == kCanceled) co_return Ok();
  if (status == kSucceeded)
    co_return MakeError(ErrorCode::kConflict, "A succeeded payment intent cannot be canceled.");

  const NewEvent event = co_await SetStatusAndCommit(tx, IntentFromRow(rows, 0), kCanceled,
                                                     rows.OptString(0, "last_error_code"),
                                                     "payment_intent.canceled", now);
  co_await DeliverSoon(event.id);
  co_return Ok();
}

Task<Result<services::RefundResult>> LocalGateway::Refund(const services::RefundRequest& request) {
  if (request.amount_cents <= 0) co_return FieldProblem("amount_cents", "must be positive");
  const TimePoint now = clock_.Now();
  const std::optional<std::string> key = KeyParam(request.idempotency_key);
  pg::Transaction tx = co_await pool_.BeginTransaction();
  // The intent's lock comes first: a retry with the same key waits for the first attempt and
  // then finds its refund.
  QueryResult rows = co_await tx.Execute(kLockIntent, Params(request.intent_id));
  if (rows.empty()) co_return NoSuchIntent();
  if (key) {
    QueryResult earlier = co_await tx.Execute(kRefundByKey, Params(key));
    if (!earlier.empty()) {
      if (earlier.String(0, "intent_id") != request.intent_id ||
          earlier.Int(0, "amount_cents") != request.amount_cents) {
        co_return MakeError(ErrorCode::kConflict,
                            "The idempotency key was used for another refund.");
      }
      co_return services::RefundResult{.id = earlier.String(0, "id"),
                                       .status = std::string(kSucceeded)};
    }
  }
  const IntentRow intent = IntentFromRow(rows, 0);
  if (intent.intent.status != kSucceeded)
    co_return MakeError(ErrorCode::kConflict, "Only a succeeded payment can be refunded.");
  if (request.amount_cents > intent.intent.amount_cents - intent.amount_refunded_cents)
    co_return MakeError(ErrorCode::kConflict, "The refund exceeds what remains of the payment.");

  const std::string refund_id = NewId("re_local_");
  co_await tx.Execute(kInsertRefund, Params(refund_id, request.intent_id, request.amount_cents,
                                            request.reason, key, now));
  QueryResult updated =
      co_await tx.Execute(kAddRefunded, Params(request.intent_id, request.amount_cents, now));
  const NewEvent event = MakeEvent("charge.refunded", IntentFromRow(updated, 0), now);
  co_await InsertEvent(tx, event, request.intent_id, now);
  co_await tx.Commit();
  co_await DeliverSoon(event.id);
  co_return services::RefundResult{.id = refund_id, .status = std::string(kSucceeded)};
}

Result<PaymentEvent> LocalGateway::ParseWebhook(std::string_view signature, std::string_view body,
                                                TimePoint now) const {
  if (auto verified = auth::VerifyWebhook(signature, body, options_.webhook_secret, now);
      !verified.ok())
    return std::move(verified).error();
  return ParseStripeEvent(body);
}

Task<Result<PaymentIntent>> LocalGateway::Confirm(std::string_view intent_id,
                                                  const CardDetails& card) {
  const TimePoint now = clock_.Now();
  Result<CardOutcome> outcome = CheckCard(card, now);
  if (!outcome.ok()) co_return std::move(outcome).error();

  pg::Transaction tx = co_await pool_.BeginTransaction();
  QueryResult rows = co_await tx.Execute(kLockIntent, Params(intent_id));
  if (rows.empty() || !SameSecret(rows.Text(0, "client_secret"), card.client_secret))
    co_return NoSuchIntent();
  const std::string status = rows.String(0, "status");
  if (status == kSucceeded)
    co_return MakeError(ErrorCode::kConflict, "The payment intent has already succeeded.");
  if (status == kCanceled)
    co_return MakeError(ErrorCode::kConflict, "The payment intent was canceled.");

  std::optional<std::string> error_code;
  if (*outcome == CardOutcome::kDeclined) error_code = "card_declined";
  if (*outcome == CardOutcome::kInsufficientFunds) error_code = "insufficient_funds";
  const std::string_view new_status = error_code ? kRequiresPaymentMethod : kSucceeded;
  IntentRow row = IntentFromRow(rows, 0);
  row.intent.status = std::string(new_status);
  const NewEvent event = co_await SetStatusAndCommit(
      tx, row, new_status, error_code,
      error_code ? "payment_intent.payment_failed" : "payment_intent.succeeded", now);
  co_await DeliverSoon(event.id);

  if (*outcome == CardOutcome::kInsufficientFunds)
    co_return MakeError(ErrorCode::kInsufficientFunds, "Your card has insufficient funds.");
  if (*outcome == CardOutcome::kDeclined)
    co_return MakeError(ErrorCode::kPaymentDeclined, "Your card was declined.");
  co_return std::move(row.intent);
}

// ---- Delivery ----

Task<void> LocalGateway::DeliverSoon(std::string event_id) {
  auto executor = co_await asio::this_coro::executor;
  ++in_flight_;
  asio::co_spawn(executor, DeliverOne(this, std::move(event_id)), asio::detached);
}

Task<void> LocalGateway::DeliverOne(LocalGateway* self, std::string event_id) {
  // Counted out however this ends (another deliverer may have claimed the event first): shutdown
  // waits for the count to reach zero.
  struct InFlight {
    std::atomic<int>& count;
    ~InFlight() { --count; }
  } in_flight{self->in_flight_};
  try {
    const TimePoint now = self->clock_.Now();
    const TimePoint lease = now + self->options_.delivery_timeout + kLeaseMargin;
    QueryResult rows = co_await self->pool_.Execute(kClaimOne, Params(event_id, now, lease));
    if (rows.empty()) co_return;
    const Claimed event = Claimed::From(rows);
    const std::optional<Failure> failure = co_await self->Deliver(event);
    if (failure && !failure->given_up) co_await self->QueueDelivery(event.id, failure->retry_at);
  } catch (const std::exception& e) {
    // PostgreSQL failed: the stranded-events job queues the delivery later.
    spdlog::warn("local gateway: delivering {} failed: {}", event_id, e.what());
  }
}

Task<bool> LocalGateway::QueueDelivery(const std::string& event_id, TimePoint run_at) {
  services::NewJob job{.kind = std::string(services::kDeliverWebhooksJob),
                       .payload = json::serialize(json::object{{"event_id", event_id}}),
                       .unique_key = std::string(services::kDeliverWebhooksJob) + ":" + event_id,
                       .run_at = run_at,
                       .max_attempts = kDeliveryJobAttempts};
  const std::optional<std::int64_t> id = co_await jobs_.Enqueue(job);
  co_return id.has_value();
}

Task<std::optional<LocalGateway::Failure>> LocalGateway::Deliver(const Claimed& event) {
  const TimePoint sent_at = clock_.Now();
  http::ClientHeaders headers;
  headers.emplace_back("Local-Signature", auth::SignWebhook(options_.webhook_secret,
                                                            UnixSeconds(sent_at), event.payload));
  headers.emplace_back("Content-Type", "application/json");
  std::string error;
  try {
    http::ClientResponse response = co_await http_.Post(options_.webhook_url, std::move(headers),
                                                        event.payload, options_.delivery_timeout);
    if (response.status >= 200 && response.status < 300) {
      co_await pool_.Execute(kMarkDelivered, Params(event.id, clock_.Now()));
      co_return std::nullopt;
    }
    error = "HTTP " + std::to_string(response.status);
  } catch (const std::exception& e) {
    // ServiceUnavailable (unreachable, timed out) or a webhook URL that is not http://.
    error = e.what();
  }
  const TimePoint now = clock_.Now();
  Failure failure{.retry_at = now + Backoff(event.attempts), .error = error.substr(0, 500)};
  spdlog::warn("local gateway: event {} not delivered (attempt {}): {}", event.id, event.attempts,
               error);
  QueryResult marked = co_await pool_.Execute(
      kMarkFailedAttempt,
      Params(event.id, failure.error, failure.retry_at, now - kGiveUpAfter, now));
  failure.given_up = !marked.empty() && marked.Bool(0, "given_up");
  co_return failure;
}

Task<services::DeliveryAttempt> LocalGateway::DeliverEvent(std::string_view event_id) {
  using Kind = services::DeliveryAttempt::Kind;
  const TimePoint now = clock_.Now();
  const TimePoint lease = now + options_.delivery_timeout + kLeaseMargin;
  QueryResult rows = co_await pool_.Execute(kClaimForJob, Params(event_id, now, lease));
  if (rows.empty()) {
    QueryResult state = co_await pool_.Execute(kEventState, Params(event_id));
    if (state.empty()) co_return services::DeliveryAttempt{.kind = Kind::kUnknown};
    if (state.Bool(0, "delivered")) co_return services::DeliveryAttempt{.kind = Kind::kSettled};
    // In flight elsewhere, or not due yet: look again when that attempt must have ended.
    co_return services::DeliveryAttempt{
        .kind = Kind::kRetry,
        .retry_in = std::chrono::duration_cast<std::chrono::milliseconds>(
            state.Time(0, "next_attempt_at") - now),
        .error = "another delivery attempt is in flight"};
  }
  const std::optional<Failure> failure = co_await Deliver(Claimed::From(rows));
  if (!failure) co_return services::DeliveryAttempt{.kind = Kind::kDelivered};
  co_return services::DeliveryAttempt{
      .kind = failure->given_up ? Kind::kGivenUp : Kind::kRetry,
      .retry_in =
          std::chrono::duration_cast<std::chrono::milliseconds>(failure->retry_at - clock_.Now()),
      .error = failure->error};
}

Task<int> LocalGateway::QueueStranded(int limit) {
  QueryResult rows =
      co_await pool_.Execute(kStranded, Params(clock_.Now() - kStrandedAfter, limit));
  int queued = 0;
  for (int r = 0; r < rows.size(); ++r) {
    const std::string id = rows.String(r, "id");
    if (co_await QueueDelivery(id, rows.Time(r, "next_attempt_at"))) ++queued;
  }
  co_return queued;
}

}  // namespace market::clients
