#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/orders/order.hpp"

namespace market::services {

// A payment as the provider keeps it (Stripe's PaymentIntent and the local gateway's alike).
struct PaymentIntent {
  std::string id;
  std::string client_secret;  // what the buyer's browser needs to confirm it
  std::int64_t amount_cents = 0;
  std::string currency;  // ISO 4217, upper case
  // requires_payment_method | processing | succeeded | canceled
  std::string status;
};

struct CreateIntent {
  domain::OrderId order;
  std::int64_t amount_cents = 0;
  std::string currency;
  // Stable per order: creating twice with the same key returns the same intent.
  std::string idempotency_key;
};

struct RefundRequest {
  std::string intent_id;
  std::int64_t amount_cents = 0;
  std::string reason;
  std::string idempotency_key;  // stable per refund: a retried refund never pays out twice
};

struct RefundResult {
  std::string id;
  std::string status;  // succeeded | pending
};

// A webhook event after its signature was checked and its body read.
struct PaymentEvent {
  enum class Kind { kSucceeded, kFailed, kOther };
  std::string id;    // the provider's event id: processed once
  std::string type;  // the provider's name for it, e.g. payment_intent.succeeded
  Kind kind = Kind::kOther;
  std::string intent_id;
  std::int64_t amount_cents = 0;
  std::string currency;                  // upper case
  std::optional<domain::OrderId> order;  // from the intent's metadata
  std::string failure_code;              // kFailed: e.g. card_declined
};

// The payment gateway seen from the marketplace. Calls go over the network (or, for the local
// gateway, to its own tables): never call one inside a database transaction. Network failures
// throw ServiceUnavailable; refusals by the provider come back as errors.
class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;

  virtual std::string_view name() const = 0;  // "local", "stripe"
  // What the buyer's browser loads the provider's script with (Stripe's pk_…), if anything.
  virtual std::string_view publishable_key() const { return {}; }
  // The request header that carries the webhook signature.
  virtual std::string_view signature_header() const = 0;

  virtual Task<Result<PaymentIntent>> CreateIntent(const CreateIntent& request) = 0;
  virtual Task<Result<PaymentIntent>> RetrieveIntent(std::string_view intent_id) = 0;
  // Cancels an intent that has not succeeded; an intent already canceled is fine.
  virtual Task<Result<void>> CancelIntent(std::string_view intent_id) = 0;
  virtual Task<Result<RefundResult>> Refund(const RefundRequest& request) = 0;

  // Checks a webhook delivery's signature over the raw body before reading anything in it
  // (kBadRequest-class error `invalid_signature` when it fails), then parses the event.
  virtual Result<PaymentEvent> ParseWebhook(std::string_view signature, std::string_view body,
                                            TimePoint now) const = 0;
};

}  // namespace market::services
