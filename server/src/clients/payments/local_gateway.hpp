#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "http/client.hpp"
#include "services/jobs/job_queue.hpp"
#include "services/payments/payment_provider.hpp"
#include "services/payments/webhook_deliveries.hpp"
#include "storage/pg/pool.hpp"

namespace market::clients {

struct LocalGatewayOptions {
  // Where events are POSTed, e.g. http://127.0.0.1:8080/api/v1/payments/webhooks/local.
  std::string webhook_url;
  // Signs deliveries and checks received webhooks (Stripe's scheme, see auth/webhook_signature).
  std::string webhook_secret;
  // Bounds one delivery attempt: connecting, sending and reading the answer.
  std::chrono::milliseconds delivery_timeout{std::chrono::seconds(10)};
};

// What the buyer's browser sends to confirm an intent. The client secret is the credential.
struct CardDetails {
  std::string client_secret;
  std::string card_number;  // digits, spaces allowed
  std::int64_t exp_month = 0;
  std::int64_t exp_year = 0;  // four digits, or two (20xx)
  std::string cvc;
};

// The built-in test-mode payment gateway, the default provider. It stands for an external
// service that behaves like Stripe's PaymentIntents but lives in this process: it keeps its own
// tables (local_payment_*, local_webhook_events) and knows orders only as metadata. Confirming
// with a test card moves the intent and writes a Stripe-shaped webhook event in one transaction
// (the event row is the outbox); after the commit the event is POSTed, signed, to the webhook URL
// at once. An attempt that fails becomes a `deliver_webhooks` job, which workers retry on the
// event's schedule (1 s, 2 s, 4 s, … at most 1 h apart, for 3 days) until a 2xx: at least once,
// like Stripe, and the receiver de-duplicates by event id. QueueStranded finds the events whose
// process died before it could deliver or queue them.
//
// Bound to one io thread, like the pool it uses: make one per shard. It must outlive the
// io_context's run, since deliveries it starts continue in the background.
class LocalGateway final : public services::PaymentProvider, public services::WebhookDeliveries {
 public:
  // `jobs` receives the deliveries to retry.
  LocalGateway(pg::Pool& pool, services::JobQueue& jobs, LocalGatewayOptions options,
               const Clock& clock);

  std::string_view name() const override { return "local"; }
  std::string_view signature_header() const override { return "Local-Signature"; }

  // Idempotent by the request's key; the same key with another order, amount or currency is
  // kConflict.
  Task<Result<services::PaymentIntent>> CreateIntent(
      const services::CreateIntent& request) override;
  // kNotFound for an unknown id.
  Task<Result<services::PaymentIntent>> RetrieveIntent(std::string_view intent_id) override;
  // An unpaid intent becomes canceled (event payment_intent.canceled); a canceled one is fine; a
  // succeeded one is kConflict (refund it instead).
  Task<Result<void>> CancelIntent(std::string_view intent_id) override;
  // Only for succeeded intents (else kConflict); idempotent by the request's key (the same key
  // for another intent or amount is kConflict); the refunds of an intent never exceed its amount
  // (kConflict). Emits charge.refunded; the refund is immediately succeeded.
  Task<Result<services::RefundResult>> Refund(const services::RefundRequest& request) override;
  // kInvalidSignature unless the signature checks out (5 minutes tolerance); kBadRequest for a
  // body that is not a Stripe-shaped event.
  Result<services::PaymentEvent> ParseWebhook(std::string_view signature, std::string_view body,
                                              TimePoint now) const override;

  // The gateway's own endpoint for the buyer's browser. Test cards: 4242 4242 4242 4242 succeeds
  // (event payment_intent.succeeded); 4000 0000 0000 9995 is kInsufficientFunds and every other
  // valid number (4000 0000 0000 0002 among them) kPaymentDeclined, leaving the intent
  // requires_payment_method (event payment_intent.payment_failed) to be confirmed again. A
  // malformed, Luhn-invalid or expired card or a bad CVC is a ValidationError naming the fields;
  // an unknown intent or a wrong client secret kNotFound; a succeeded or canceled intent
  // kConflict. Concurrent confirms of one intent are serialised on its row: one succeeds at most.
  Task<Result<services::PaymentIntent>> Confirm(std::string_view intent_id,
                                                const CardDetails& card);

  // One attempt at the event with a lease, so that other deliverers skip it meanwhile; nothing
  // is held open in the database during the POST. A failed attempt is due again after 1 s, 2 s,
  // 4 s, … (at most 1 h apart) and given up once the event is 3 days old.
  Task<services::DeliveryAttempt> DeliverEvent(std::string_view event_id) override;
  // Events due for more than a minute with no attempt in flight; those with a pending job are
  // skipped (not counted).
  Task<int> QueueStranded(int limit) override;

  // Immediate deliveries started after a commit that have not finished: a process shutting down
  // waits for these before its io_context and pool go away.
  int deliveries_in_flight() const { return in_flight_.load(); }

 private:
  struct Claimed;
  struct Failure {
    TimePoint retry_at;
    bool given_up = false;
    std::string error;
  };

  // Sends a claimed event; nullopt once the receiver answered 2xx.
  Task<std::optional<Failure>> Deliver(const Claimed& event);
  // Hands the event's delivery to the job queue, due at `run_at`; false when a job for it is
  // pending already.
  Task<bool> QueueDelivery(const std::string& event_id, TimePoint run_at);
  // Starts delivering `event_id` now, in the background on the caller's executor.
  Task<void> DeliverSoon(std::string event_id);
  static Task<void> DeliverOne(LocalGateway* self, std::string event_id);

  pg::Pool& pool_;
  services::JobQueue& jobs_;
  LocalGatewayOptions options_;
  const Clock& clock_;
  // Deliveries reuse their connections to the webhook receiver.
  http::Client http_;
  std::atomic<int> in_flight_{0};
};

}  // namespace market::clients
