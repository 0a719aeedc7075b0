#include "jobs/deliveries.hpp"

#include <spdlog/spdlog.h>

#include <string>

#include <boost/json.hpp>

namespace market::jobs {

namespace {

std::string EventIdOf(const services::Job& job) {
  boost::system::error_code error;
  const boost::json::value payload = boost::json::parse(job.payload, error);
  const boost::json::object* object = error ? nullptr : payload.if_object();
  const boost::json::value* field = object ? object->if_contains("event_id") : nullptr;
  const boost::json::string* id = field ? field->if_string() : nullptr;
  if (id == nullptr || id->empty()) throw PermanentFailure("payload has no \"event_id\" string");
  return std::string(*id);
}

// Plain coroutine functions, so that no lambda frame has to outlive its call.
Task<void> Deliver(services::WebhookDeliveries& deliveries, MaintenanceMetrics& metrics,
                   JobContext& context) {
  using Kind = services::DeliveryAttempt::Kind;
  const std::string event_id = EventIdOf(context.job);
  const services::DeliveryAttempt attempt = co_await deliveries.DeliverEvent(event_id);
  switch (attempt.kind) {
    case Kind::kDelivered:
      metrics.Add("deliver_webhooks", "delivered", 1);
      co_return;
    case Kind::kSettled:
      co_return;
    case Kind::kUnknown:
      throw PermanentFailure("no webhook event " + event_id);
    case Kind::kGivenUp:
      metrics.Add("deliver_webhooks", "given_up", 1);
      throw PermanentFailure("given up after 3 days: " + attempt.error);
    case Kind::kRetry:
      metrics.Add("deliver_webhooks", "failed_attempts", 1);
      throw RetryLater(attempt.error, attempt.retry_in);
  }
}

Task<void> QueueStranded(services::WebhookDeliveries& deliveries, MaintenanceMetrics& metrics,
                         JobContext& context) {
  int queued = 0;
  for (;;) {
    const int batch = co_await deliveries.QueueStranded(kStrandedBatch);
    queued += batch;
    if (batch < kStrandedBatch || context.lease_lost) break;
  }
  metrics.Add("deliver_webhooks", "stranded_queued", queued);
  if (queued > 0) spdlog::warn("deliver_webhooks: {} stranded events queued", queued);
}

}  // namespace

void AddDeliveryHandlers(HandlerRegistry& registry, services::WebhookDeliveries& deliveries,
                         MaintenanceMetrics& metrics) {
  registry.Add(std::string(services::kDeliverWebhooksJob),
               [&deliveries, &metrics](JobContext& context) {
                 return Deliver(deliveries, metrics, context);
               });
  registry.Add(std::string(services::kQueueStrandedWebhooksJob),
               [&deliveries, &metrics](JobContext& context) {
                 return QueueStranded(deliveries, metrics, context);
               });
}

}  // namespace market::jobs
