#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/task.hpp"

namespace market::services {

// The job that retries one event's delivery: payload {"event_id": "evt_…"}, unique key
// "deliver_webhooks:<event id>".
inline constexpr std::string_view kDeliverWebhooksJob = "deliver_webhooks";
// The periodic job that queues a deliver_webhooks job for each stranded event.
inline constexpr std::string_view kQueueStrandedWebhooksJob = "deliver_webhooks.stranded";

// How one delivery attempt of a webhook event ended.
struct DeliveryAttempt {
  enum class Kind {
    kDelivered,  // the receiver answered 2xx
    kSettled,    // nothing left to do: delivered before
    kRetry,      // not delivered (or another deliverer holds it): try again after retry_in
    kGivenUp,    // undelivered for too long: no more attempts unless asked again
    kUnknown,    // no such event
  };
  Kind kind = Kind::kSettled;
  std::chrono::milliseconds retry_in{};  // kRetry
  std::string error;                     // kRetry, kGivenUp
};

// The webhooks of a payment provider that runs inside this system (the local gateway) and must
// send its events itself, at least once, like Stripe does: each event is written with the change
// it reports and sent at once; what fails is handed to the job queue, whose workers retry it.
class WebhookDeliveries {
 public:
  virtual ~WebhookDeliveries() = default;

  // One attempt at `event_id`, unless it was delivered already or another deliverer holds it.
  // An explicit retry of a given-up event makes one more attempt. Throws when PostgreSQL fails.
  virtual Task<DeliveryAttempt> DeliverEvent(std::string_view event_id) = 0;
  // Queues a delivery job for up to `limit` events that nobody is delivering or will retry (their
  // process died between the commit and the attempt). Returns how many it queued.
  virtual Task<int> QueueStranded(int limit) = 0;
};

}  // namespace market::services
