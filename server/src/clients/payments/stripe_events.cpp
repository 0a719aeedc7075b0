#include "clients/payments/stripe_events.hpp"

#include <charconv>
#include <cstdint>
#include <optional>

#include <boost/json.hpp>

#include "common/text.hpp"

namespace market::clients {

namespace json = boost::json;
using services::PaymentEvent;

namespace {

Error Malformed(std::string message) {
  return MakeError(ErrorCode::kBadRequest, std::move(message));
}

const json::string* StringAt(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? &value->as_string() : nullptr;
}

std::optional<std::int64_t> IntegerAt(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64() && value->as_uint64() <= std::uint64_t(INT64_MAX))
    return static_cast<std::int64_t>(value->as_uint64());
  return std::nullopt;
}

// The order named in metadata.order_id, when it is one (anything else names no order).
std::optional<domain::OrderId> OrderFromMetadata(const json::object& object) {
  const json::value* metadata = object.if_contains("metadata");
  if (metadata == nullptr || !metadata->is_object()) return std::nullopt;
  const json::string* text = StringAt(metadata->as_object(), "order_id");
  if (text == nullptr) return std::nullopt;
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), id);
  if (ec != std::errc() || end != text->data() + text->size() || id <= 0) return std::nullopt;
  return domain::OrderId{id};
}

}  // namespace

Result<PaymentEvent> ParseStripeEvent(std::string_view body) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 32;
  json::value parsed = json::parse(body, ec, {}, options);
  if (ec || !parsed.is_object()) return Malformed("The event is not a JSON object.");
  const json::object& root = parsed.as_object();
  const json::string* id = StringAt(root, "id");
  const json::string* type = StringAt(root, "type");
  if (id == nullptr || id->empty() || type == nullptr || type->empty())
    return Malformed("The event has no id or type.");
  PaymentEvent event{.id = std::string(*id), .type = std::string(*type)};
  if (event.type == "payment_intent.succeeded") event.kind = PaymentEvent::Kind::kSucceeded;
  if (event.type == "payment_intent.payment_failed") event.kind = PaymentEvent::Kind::kFailed;

  const json::value* data = root.if_contains("data");
  const json::value* object =
      data != nullptr && data->is_object() ? data->as_object().if_contains("object") : nullptr;
  if (object == nullptr || !object->is_object()) {
    if (event.kind != PaymentEvent::Kind::kOther) return Malformed("The event has no object.");
    return event;
  }
  const json::object& o = object->as_object();
  const json::string* object_type = StringAt(o, "object");
  const bool is_intent = object_type != nullptr && *object_type == "payment_intent";
  const bool is_charge = object_type != nullptr && *object_type == "charge";
  if (!is_intent && !is_charge) {
    if (event.kind != PaymentEvent::Kind::kOther)
      return Malformed("The event's object is not a payment intent.");
    return event;
  }
  const json::string* intent_id = StringAt(o, is_intent ? "id" : "payment_intent");
  const std::optional<std::int64_t> amount = IntegerAt(o, "amount");
  const json::string* currency = StringAt(o, "currency");
  if (intent_id == nullptr || intent_id->empty() || !amount || currency == nullptr)
    return Malformed("The event's payment intent lacks its id, amount or currency.");
  event.intent_id = std::string(*intent_id);
  event.amount_cents = *amount;
  event.currency = AsciiUpper(*currency);
  event.order = OrderFromMetadata(o);
  if (const json::value* error = o.if_contains("last_payment_error");
      error != nullptr && error->is_object()) {
    if (const json::string* code = StringAt(error->as_object(), "code"))
      event.failure_code = std::string(*code);
  }
  return event;
}

}  // namespace market::clients
