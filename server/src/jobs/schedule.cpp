#include "jobs/schedule.hpp"

namespace market::jobs {

using namespace std::chrono_literals;

std::vector<ScheduledJob> MarketplaceSchedule() {
  std::vector<ScheduledJob> schedule;
  // Unpaid orders past their deadline: expired, their stock released, their intents cancelled.
  schedule.push_back({.kind = "expire_orders", .schedule = Schedule::Every(1min)});
  // Redis stock counters repaired from PostgreSQL; at start-up too, since Redis may have been
  // flushed or restarted meanwhile.
  schedule.push_back(
      {.kind = "reconcile_stock", .schedule = Schedule::Every(5min), .at_startup = true});
  // The local gateway's webhook events that nobody is delivering (their process died between
  // the commit and the attempt), handed to deliver_webhooks jobs; at start-up too.
  schedule.push_back(
      {.kind = "deliver_webhooks.stranded", .schedule = Schedule::Every(1min), .at_startup = true});
  // Payments whose webhook never came; closed orders' intents not yet canceled at the provider.
  schedule.push_back({.kind = "reconcile_payments", .schedule = Schedule::Every(5min)});
  // Expired refresh tokens, old idempotency records and processed webhook events.
  schedule.push_back({.kind = "cleanup", .schedule = Schedule::Every(1h)});
  // Accounts deleted and listings deactivated more than 30 days ago.
  schedule.push_back({.kind = "purge_inactive", .schedule = Schedule::DailyAt(3h)});
  return schedule;
}

}  // namespace market::jobs
