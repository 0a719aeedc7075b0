#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "common/backoff.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "services/payments/payment_provider.hpp"

namespace market::clients {

struct StripeOptions {
  std::string secret_key;       // sk_live_… or sk_test_…: never logged, never in an error
  std::string publishable_key;  // pk_…, for Stripe.js in the buyer's browser
  // Checks received webhooks; several while a secret is being rolled (any may match).
  std::vector<std::string> webhook_secrets;
  // Sent as Stripe-Version on every request, so that Stripe's answers keep their shape.
  std::string api_version = "2023-08-16";
  // Stripe's API; only tests point it elsewhere (the stand-in, or a server of their own).
  std::string api_base = "https://api.stripe.com";
  // One attempt: resolving, connecting, TLS, sending and reading the answer.
  std::chrono::milliseconds timeout{std::chrono::seconds(20)};
  // Attempts of one call when the network fails, Stripe times out, answers 429 or 5xx (never
  // for other 4xx), with the same Idempotency-Key, retry_base·2^(n−1) apart (the upper half
  // random).
  int max_attempts = 3;
  std::chrono::milliseconds retry_base{500};
  // Tests only: sent with every request (the stand-in's Prefer: code=…, example=…).
  std::vector<std::string> test_headers;
};

// Stripe's PaymentIntents and Refunds over HTTPS (libcurl, form-encoded, run on `pool` so that
// no io thread waits for Stripe). Every call that changes something carries an Idempotency-Key
// made from the caller's persisted key, so a retry after a timeout cannot act twice. Stripe's
// errors map to ours: card_declined (and the other card errors) kPaymentDeclined,
// insufficient_funds kInsufficientFunds, resource_missing kNotFound, an intent in the wrong state
// kConflict, any other refusal kBadRequest; the network, 429 and 5xx after the last attempt, and
// a refused API key, throw ServiceUnavailable.
class StripeGateway final : public services::PaymentProvider {
 public:
  StripeGateway(StripeOptions options, boost::asio::thread_pool& pool);

  std::string_view name() const override { return "stripe"; }
  std::string_view signature_header() const override { return "Stripe-Signature"; }
  std::string_view publishable_key() const override { return options_.publishable_key; }

  // amount, currency, automatic_payment_methods, metadata[order_id], description.
  Task<Result<services::PaymentIntent>> CreateIntent(
      const services::CreateIntent& request) override;
  Task<Result<services::PaymentIntent>> RetrieveIntent(std::string_view intent_id) override;
  // A canceled intent is fine; a succeeded one is kConflict.
  Task<Result<void>> CancelIntent(std::string_view intent_id) override;
  // Of the intent's charge; reason requested_by_customer, ours in metadata[reason].
  Task<Result<services::RefundResult>> Refund(const services::RefundRequest& request) override;
  // Stripe-Signature against each webhook secret, 300 s tolerance; then the event.
  Result<services::PaymentEvent> ParseWebhook(std::string_view signature, std::string_view body,
                                              TimePoint now) const override;

 private:
  using Form = std::vector<std::pair<std::string, std::string>>;
  // One API call with its retries; the answer's body (2xx), or Stripe's refusal mapped.
  Task<Result<std::string>> Send(std::string method, std::string path, Form form,
                                 std::string idempotency_key);

  StripeOptions options_;
  boost::asio::thread_pool& pool_;
  BackoffPolicy retry_;
};

}  // namespace market::clients
