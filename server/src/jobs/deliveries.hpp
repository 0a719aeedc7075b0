#pragma once

#include <array>
#include <string_view>

#include "jobs/maintenance.hpp"
#include "jobs/worker.hpp"
#include "services/payments/webhook_deliveries.hpp"

namespace market::jobs {

// The kinds AddDeliveryHandlers registers.
inline constexpr std::array<std::string_view, 2> kDeliveryKinds = {
    services::kDeliverWebhooksJob, services::kQueueStrandedWebhooksJob};

// Stranded events queued per run, at most.
inline constexpr int kStrandedBatch = 500;

// deliver_webhooks {"event_id"}: one attempt at the event; a failure is retried when the event is
// due again (RetryLater), an event given up after 3 days makes the job dead (`marketplace jobs
// retry ID` makes one more attempt). deliver_webhooks.stranded {}: queues a deliver_webhooks job
// for each event nobody is delivering. Counted in `metrics` under the job deliver_webhooks.
void AddDeliveryHandlers(HandlerRegistry& registry, services::WebhookDeliveries& deliveries,
                         MaintenanceMetrics& metrics);

}  // namespace market::jobs
