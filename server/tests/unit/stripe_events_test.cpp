// Reading Stripe-shaped events (Stripe's own, and the local gateway's): which kinds are acted on,
// what is read from their objects, and what is refused as malformed.
#include "clients/payments/stripe_events.hpp"

#include <gtest/gtest.h>

#include <string>

namespace market::clients {
namespace {

using services::PaymentEvent;

std::string Event(std::string type, std::string object) {
  return R"({"id": "evt_1", "object": "event", "type": ")" + type + R"(", "data": {"object": )" +
         object + "}}";
}

TEST(StripeEvents, ASucceededIntentNamesItsOrderAmountAndCurrency) {
  auto event = ParseStripeEvent(Event("payment_intent.succeeded", R"({"object": "payment_intent",
    "id": "pi_1", "amount": 2300, "currency": "eur", "metadata": {"order_id": "17"}})"));
  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->kind, PaymentEvent::Kind::kSucceeded);
  EXPECT_EQ(event->intent_id, "pi_1");
  EXPECT_EQ(event->amount_cents, 2300);
  EXPECT_EQ(event->currency, "EUR");
  ASSERT_TRUE(event->order.has_value());
  EXPECT_EQ(event->order->value, 17);
  EXPECT_TRUE(event->whole_payment());
}

TEST(StripeEvents, DisputesNameTheirIntentAndReasonOrOutcome) {
  auto opened = ParseStripeEvent(Event("charge.dispute.created", R"({"object": "dispute",
    "id": "dp_1", "charge": "ch_1", "payment_intent": "pi_1", "amount": 500, "currency": "usd",
    "reason": "fraudulent", "status": "needs_response"})"));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->kind, PaymentEvent::Kind::kDisputeOpened);
  EXPECT_EQ(opened->intent_id, "pi_1");
  EXPECT_EQ(opened->detail, "fraudulent");
  EXPECT_FALSE(opened->order.has_value()) << "found by its intent instead";
  EXPECT_FALSE(opened->whole_payment());

  auto closed = ParseStripeEvent(Event("charge.dispute.closed", R"({"object": "dispute",
    "id": "dp_1", "payment_intent": "pi_1", "amount": 500, "currency": "usd", "status": "won"})"));
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->kind, PaymentEvent::Kind::kDisputeClosed);
  EXPECT_EQ(closed->detail, "won");
}

TEST(StripeEvents, ARefundedChargeSaysHowMuchWentBack) {
  auto refunded = ParseStripeEvent(Event("charge.refunded", R"({"object": "charge", "id": "ch_1",
    "payment_intent": "pi_1", "amount": 2300, "amount_refunded": 2300, "currency": "usd"})"));
  ASSERT_TRUE(refunded.ok()) << refunded.error().message;
  EXPECT_EQ(refunded->kind, PaymentEvent::Kind::kRefunded);
  EXPECT_EQ(refunded->detail, "2300");
}

TEST(StripeEvents, AnEventWhoseObjectIsNotWhatItsTypeSaysIsMalformed) {
  for (const auto& [type, object] : std::vector<std::pair<std::string, std::string>>{
           {"charge.dispute.created", R"({"object": "charge", "payment_intent": "pi_1",
             "amount": 1, "currency": "usd"})"},
           {"payment_intent.succeeded", R"({"object": "dispute", "payment_intent": "pi_1",
             "amount": 1, "currency": "usd"})"},
           {"charge.refunded", R"({"object": "charge", "amount": 1, "currency": "usd"})"}}) {
    auto event = ParseStripeEvent(Event(type, object));
    ASSERT_FALSE(event.ok()) << type;
    EXPECT_EQ(event.error().code, ErrorCode::kBadRequest);
  }
}

TEST(StripeEvents, OtherTypesAreReadAsFarAsTheyGo) {
  for (const std::string& body :
       {Event("payment_intent.requires_action", R"({"object": "payment_intent"})"),
        Event("charge.dispute.updated", R"({"object": "dispute"})"),
        Event("customer.created", R"({"object": "customer", "id": "cus_1"})"),
        std::string(R"({"id": "evt_2", "type": "balance.available"})")}) {
    auto event = ParseStripeEvent(body);
    ASSERT_TRUE(event.ok()) << body;
    EXPECT_EQ(event->kind, PaymentEvent::Kind::kOther);
  }
  EXPECT_FALSE(ParseStripeEvent("[]").ok());
  EXPECT_FALSE(ParseStripeEvent(R"({"type": "charge.refunded"})").ok());
}

}  // namespace
}  // namespace market::clients
