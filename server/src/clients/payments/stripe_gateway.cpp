#include "clients/payments/stripe_gateway.hpp"

#include <spdlog/spdlog.h>

#include <optional>

#include <boost/json.hpp>

#include "auth/webhook_signature.hpp"
#include "clients/payments/stripe_events.hpp"
#include "clients/web/curl_fetch.hpp"
#include "common/backoff.hpp"
#include "common/offload.hpp"
#include "common/pause.hpp"
#include "common/text.hpp"
#include "common/unavailable.hpp"

namespace market::clients {

namespace json = boost::json;
using services::PaymentIntent;

namespace {

constexpr std::chrono::seconds kWebhookTolerance{300};

std::string StringOf(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::optional<json::object> ObjectOf(std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  return std::move(parsed.as_object());
}

Result<PaymentIntent> IntentFrom(const std::string& body) {
  std::optional<json::object> object = ObjectOf(body);
  const json::value* amount = object ? object->if_contains("amount") : nullptr;
  if (!object || StringOf(*object, "id").empty() || amount == nullptr || !amount->is_int64())
    throw ServiceUnavailable("Stripe answered with something that is not a payment intent");
  return PaymentIntent{.id = StringOf(*object, "id"),
                       .client_secret = StringOf(*object, "client_secret"),
                       .amount_cents = amount->as_int64(),
                       .currency = AsciiUpper(StringOf(*object, "currency")),
                       .status = StringOf(*object, "status")};
}

// Stripe's refusal ({"error": {type, code, decline_code, param}}) as our error. Stripe's own
// message is not passed on: ours say the same without echoing anything of the request.
Error Refusal(long status, const std::string& body) {
  std::optional<json::object> root = ObjectOf(body);
  const json::value* error = root ? root->if_contains("error") : nullptr;
  json::object details =
      error != nullptr && error->is_object() ? error->as_object() : json::object();
  const std::string type = StringOf(details, "type");
  const std::string code = StringOf(details, "code");
  const std::string decline = StringOf(details, "decline_code");
  if (status == 401 || status == 403 || type == "authentication_error")
    throw ServiceUnavailable("Stripe refused the API key");
  if (type == "card_error" || status == 402) {
    if (code == "insufficient_funds" || decline == "insufficient_funds")
      return MakeError(ErrorCode::kInsufficientFunds, "Your card has insufficient funds.");
    if (code == "authentication_required" || decline == "authentication_required")
      return MakeError(ErrorCode::kPaymentDeclined,
                       "Your bank asks you to authenticate this payment.");
    return MakeError(ErrorCode::kPaymentDeclined, "Your card was declined.");
  }
  if (status == 404 || code == "resource_missing")
    return MakeError(ErrorCode::kNotFound, "No such payment intent.");
  if (code == "payment_intent_unexpected_state" || code == "charge_already_refunded" ||
      status == 409)
    return MakeError(ErrorCode::kConflict, "The payment is not in a state that allows this.");
  const std::string param = StringOf(details, "param");
  return MakeError(ErrorCode::kBadRequest, "Stripe refused the request" +
                                               (code.empty() ? "" : " (" + code + ")") +
                                               (param.empty() ? "" : " about " + param) + ".");
}

}  // namespace

StripeGateway::StripeGateway(StripeOptions options, boost::asio::thread_pool& pool)
    : options_(std::move(options)),
      pool_(pool),
      retry_{.base = options_.retry_base, .max = options_.retry_base * 1024} {}

Task<Result<std::string>> StripeGateway::Send(std::string method, std::string path, Form form,
                                              std::string idempotency_key) {
  FetchRequest request{.method = std::move(method),
                       .url = options_.api_base + path,
                       .body = FormEncode(form),
                       .timeout = options_.timeout};
  request.headers.push_back("Authorization: Bearer " + options_.secret_key);
  request.headers.push_back("Stripe-Version: " + options_.api_version);
  if (request.method == "POST")
    request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  if (!idempotency_key.empty()) request.headers.push_back("Idempotency-Key: " + idempotency_key);
  for (const std::string& header : options_.test_headers) request.headers.push_back(header);

  std::string failure;
  for (int attempt = 1;; ++attempt) {
    std::optional<FetchResponse> response;
    try {
      auto fetch = [&request] { return CurlFetch(request); };
      response.emplace(co_await Offload(pool_, std::move(fetch)));
    } catch (const ServiceUnavailable& e) {
      failure = e.what();
    }
    if (response) {
      if (response->status >= 200 && response->status < 300) co_return std::move(response->body);
      if (response->status != 429 && response->status < 500)
        co_return Refusal(response->status, response->body);
      failure = "HTTP " + std::to_string(response->status);
    }
    if (attempt >= options_.max_attempts) break;
    spdlog::warn("stripe: {} {} failed (attempt {}), retrying: {}", request.method, path, attempt,
                 failure);
    co_await Pause(RetryDelay(retry_, attempt));
  }
  throw ServiceUnavailable("Stripe is unavailable: " + failure);
}

Task<Result<PaymentIntent>> StripeGateway::CreateIntent(const services::CreateIntent& request) {
  const std::string order = std::to_string(request.order.value);
  Form form{{"amount", std::to_string(request.amount_cents)},
            {"currency", AsciiLower(request.currency)},
            {"automatic_payment_methods[enabled]", "true"},
            {"description", "Marketplace order " + order},
            {"metadata[order_id]", order}};
  Result<std::string> body =
      co_await Send("POST", "/v1/payment_intents", std::move(form), request.idempotency_key);
  if (!body.ok()) co_return std::move(body).error();
  co_return IntentFrom(*body);
}

Task<Result<PaymentIntent>> StripeGateway::RetrieveIntent(std::string_view intent_id) {
  Form none;
  Result<std::string> body =
      co_await Send("GET", "/v1/payment_intents/" + UrlEscape(intent_id), std::move(none), "");
  if (!body.ok()) co_return std::move(body).error();
  co_return IntentFrom(*body);
}

Task<Result<void>> StripeGateway::CancelIntent(std::string_view intent_id) {
  const std::string path = "/v1/payment_intents/" + UrlEscape(intent_id) + "/cancel";
  Form none;
  Result<std::string> body =
      co_await Send("POST", path, std::move(none), "cancel-" + std::string(intent_id));
  if (body.ok()) co_return Result<void>();
  if (body.error().code != ErrorCode::kConflict) co_return std::move(body).error();
  // Not cancelable: fine if it is canceled already, a conflict if it succeeded.
  Result<PaymentIntent> intent = co_await RetrieveIntent(intent_id);
  if (intent.ok() && intent->status == "canceled") co_return Result<void>();
  co_return MakeError(ErrorCode::kConflict, "The payment intent has already succeeded.");
}

Task<Result<services::RefundResult>> StripeGateway::Refund(const services::RefundRequest& request) {
  Form form{{"payment_intent", request.intent_id},
            {"amount", std::to_string(request.amount_cents)},
            {"reason", "requested_by_customer"},
            {"metadata[reason]", request.reason}};
  Result<std::string> body =
      co_await Send("POST", "/v1/refunds", std::move(form), request.idempotency_key);
  if (!body.ok()) co_return std::move(body).error();
  std::optional<json::object> refund = ObjectOf(*body);
  if (!refund || StringOf(*refund, "id").empty())
    throw ServiceUnavailable("Stripe answered with something that is not a refund");
  co_return services::RefundResult{.id = StringOf(*refund, "id"),
                                   .status = StringOf(*refund, "status")};
}

Result<services::PaymentEvent> StripeGateway::ParseWebhook(std::string_view signature,
                                                           std::string_view body,
                                                           TimePoint now) const {
  std::optional<Error> first;
  for (const std::string& secret : options_.webhook_secrets) {
    Result<void> verified = auth::VerifyWebhook(signature, body, secret, now, kWebhookTolerance);
    if (verified.ok()) return ParseStripeEvent(body);
    if (!first) first = std::move(verified).error();
  }
  if (first) return std::move(*first);
  return MakeError(ErrorCode::kInvalidSignature, "No webhook secret is configured.");
}

}  // namespace market::clients
