#include "jobs/maintenance.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace market::jobs {
namespace {

bool Stopped(const bool* stop) { return stop != nullptr && *stop; }

std::string_view DriftName(MaintenanceMetrics::Drift drift) {
  switch (drift) {
    case MaintenanceMetrics::Drift::kTooHigh:
      return "too_high";
    case MaintenanceMetrics::Drift::kTooLow:
      return "too_low";
    case MaintenanceMetrics::Drift::kNoListing:
      return "no_listing";
  }
  return "unknown";
}

constexpr std::array<MaintenanceMetrics::Drift, 3> kDrifts = {
    MaintenanceMetrics::Drift::kTooHigh, MaintenanceMetrics::Drift::kTooLow,
    MaintenanceMetrics::Drift::kNoListing};

}  // namespace

void MaintenanceMetrics::Add(std::string_view job, std::string_view item, std::int64_t n) {
  if (n <= 0) return;
  std::lock_guard lock(mutex_);
  items_[std::make_pair(std::string(job), std::string(item))] += n;
}

void MaintenanceMetrics::Corrected(Drift drift) {
  std::lock_guard lock(mutex_);
  ++corrections_[static_cast<std::size_t>(drift)];
}

std::int64_t MaintenanceMetrics::items(std::string_view job, std::string_view item) const {
  std::lock_guard lock(mutex_);
  auto found = items_.find(std::make_pair(std::string(job), std::string(item)));
  return found == items_.end() ? 0 : found->second;
}

std::int64_t MaintenanceMetrics::corrections() const {
  std::lock_guard lock(mutex_);
  std::int64_t total = 0;
  for (std::int64_t n : corrections_) total += n;
  return total;
}

std::string MaintenanceMetrics::Render() const {
  std::lock_guard lock(mutex_);
  std::string out =
      "# HELP marketplace_maintenance_items_total Rows the maintenance jobs expired, deleted or "
      "anonymised.\n# TYPE marketplace_maintenance_items_total counter\n";
  for (const auto& [key, n] : items_) {
    out += fmt::format("marketplace_maintenance_items_total{{job=\"{}\",item=\"{}\"}} {}\n",
                       key.first, key.second, n);
  }
  out +=
      "# HELP marketplace_stock_counter_corrections_total Redis stock counters that disagreed "
      "with PostgreSQL and were dropped to be re-seeded.\n"
      "# TYPE marketplace_stock_counter_corrections_total counter\n";
  for (auto drift : kDrifts) {
    out += fmt::format("marketplace_stock_counter_corrections_total{{drift=\"{}\"}} {}\n",
                       DriftName(drift), corrections_[static_cast<std::size_t>(drift)]);
  }
  return out;
}

Maintenance::Maintenance(services::OrdersService& orders, services::PaymentsService& payments,
                         services::OrdersRepository& orders_repository, services::StockGate& gate,
                         services::MaintenanceRepository& repository, MaintenanceMetrics& metrics,
                         MaintenanceOptions options)
    : orders_(orders),
      payments_(payments),
      orders_repository_(orders_repository),
      gate_(gate),
      repository_(repository),
      metrics_(metrics),
      options_(options) {}

// ExpireDue commits the expiry first and only then releases the counters and cancels the intents,
// one order at a time. If this run dies in between, the order stays expired (it is not picked
// again): a counter left low is found by reconcile_stock, and an intent left open that is paid
// anyway comes back as a webhook for a closed order, which is refunded. So a retry of this job
// never needs to redo anything, and nobody pays for an order that expired.
Task<ExpireReport> Maintenance::ExpireOrders(const bool* stop) {
  ExpireReport report;
  for (int batch = 0; batch < options_.expire_batches && !Stopped(stop); ++batch) {
    const int expired = co_await orders_.ExpireDue(options_.expire_batch);
    report.expired += expired;
    if (expired < options_.expire_batch) break;
  }
  report.refunds_sent = co_await payments_.SendRefunds(std::nullopt);
  metrics_.Add("expire_orders", "orders_expired", report.expired);
  metrics_.Add("expire_orders", "refunds_sent", report.refunds_sent);
  spdlog::info("expire_orders: {} unpaid orders expired, {} refunds sent", report.expired,
               report.refunds_sent);
  co_return report;
}

Task<services::PaymentsService::ReconcileReport> Maintenance::ReconcilePayments(const bool* stop) {
  services::PaymentsService::ReconcileReport total;
  for (int batch = 0; batch < options_.payments_batches && !Stopped(stop); ++batch) {
    const auto report =
        co_await payments_.ReconcileIntents(options_.payments_age, options_.payments_batch);
    total.checked += report.checked;
    total.paid += report.paid;
    total.refunded += report.refunded;
    total.cancelled += report.cancelled;
    total.failed += report.failed;
    if (report.checked < options_.payments_batch) break;
  }
  metrics_.Add("reconcile_payments", "intents_checked", total.checked);
  metrics_.Add("reconcile_payments", "paid_without_webhook", total.paid);
  metrics_.Add("reconcile_payments", "refunded_without_webhook", total.refunded);
  metrics_.Add("reconcile_payments", "intents_cancelled", total.cancelled);
  metrics_.Add("reconcile_payments", "provider_failures", total.failed);
  spdlog::info(
      "reconcile_payments: {} intents checked, {} orders paid and {} refunded without their "
      "webhook, {} intents of closed orders cancelled, {} not answered",
      total.checked, total.paid, total.refunded, total.cancelled, total.failed);
  co_return total;
}

// Why a drifted counter is dropped rather than set to PostgreSQL's figure:
//
// A checkout takes from the counter (Lua) and only then writes its order to PostgreSQL, so while
// it is in flight the counter is lower than what PostgreSQL says is available, correctly. Which
// counters have a checkout in flight cannot be seen (holds are keyed by buyer). Setting the counter
// to PostgreSQL's figure, even with a compare-and-set, would in that case leave it too high by
// the checkout's quantity once it commits, and a give-back could add on top. Too high never
// oversells (PostgreSQL re-checks under the listing row lock), so neither choice is unsafe; the
// difference is which value the counter ends up with. Deleting it (only if it still holds the
// value that was compared, so a counter a checkout just changed is left for the next run) hands it
// to the gate's one seeding path: the next checkout that wants it reads PostgreSQL afresh and
// creates it with SET NX. That read comes later than ours, usually after the in-flight checkout,
// and a give-back to a missing counter is a no-op, so the re-seeded value is as right as a seed
// can be. A false alarm (a counter that only looked drifted because a checkout was in flight)
// costs one re-seed. A listing that no longer exists has its counter dropped too.
//
// Only counters that exist are checked: a missing one (after FLUSHALL, or expired) is seeded on
// demand by the checkout that needs it, and until then PostgreSQL alone decides.
Task<ReconcileReport> Maintenance::ReconcileStock(const bool* stop) {
  ReconcileReport report;
  std::uint64_t cursor = 0;
  bool more = true;
  for (int pages = 0; more && pages < options_.reconcile_pages &&
                      report.checked < options_.reconcile_max && !Stopped(stop);
       ++pages) {
    std::optional<services::CounterPage> page =
        co_await gate_.ScanCounters(cursor, options_.reconcile_page);
    if (!page) {
      spdlog::warn("reconcile_stock: Redis cannot be read; the next run will check the counters");
      break;
    }
    cursor = page->next_cursor;
    more = cursor != 0;
    report.checked += static_cast<int>(page->counters.size());
    if (!page->counters.empty()) co_await Repair(page->counters, report);
  }
  report.complete = !more;
  metrics_.Add("reconcile_stock", "counters_checked", report.checked);
  spdlog::info("reconcile_stock: {} counters checked, {} corrected{}", report.checked,
               report.corrected, report.complete ? "" : " (stopped early: more next run)");
  co_return report;
}

// `seen` was read from Redis before PostgreSQL is read here, in a statement of its own.
Task<void> Maintenance::Repair(const std::vector<services::StockLevel>& seen,
                               ReconcileReport& report) {
  std::vector<ListingId> listings;
  listings.reserve(seen.size());
  for (const auto& level : seen) listings.push_back(level.listing);
  const std::vector<services::StockLevel> truth = co_await orders_repository_.StockLevels(listings);
  std::map<ListingId, int> available;
  for (const auto& level : truth) available[level.listing] = level.available;

  std::vector<services::StockLevel> drifted;
  for (const auto& level : seen) {
    auto found = available.find(level.listing);
    if (found == available.end() || found->second != level.available) drifted.push_back(level);
  }
  if (drifted.empty()) co_return;
  const std::vector<ListingId> dropped = co_await gate_.DropIfUnchanged(drifted);
  for (const auto& level : drifted) {
    if (std::find(dropped.begin(), dropped.end(), level.listing) == dropped.end()) continue;
    auto found = available.find(level.listing);
    MaintenanceMetrics::Drift drift = MaintenanceMetrics::Drift::kNoListing;
    if (found != available.end()) {
      drift = level.available > found->second ? MaintenanceMetrics::Drift::kTooHigh
                                              : MaintenanceMetrics::Drift::kTooLow;
      spdlog::warn(
          "reconcile_stock: listing {}: counter {} but {} available in PostgreSQL; dropped, the "
          "next checkout re-seeds it",
          level.listing.value, level.available, found->second);
    } else {
      spdlog::warn(
          "reconcile_stock: listing {}: counter {} for a listing that does not exist; "
          "dropped",
          level.listing.value, level.available);
    }
    metrics_.Corrected(drift);
    ++report.corrected;
  }
}

Task<std::int64_t> Maintenance::SweepBatch(Sweep sweep) {
  const int limit = options_.cleanup_batch;
  switch (sweep) {
    case Sweep::kSessions:
      co_return co_await repository_.DeleteExpiredSessions(limit);
    case Sweep::kIdempotencyKeys:
      co_return co_await repository_.DeleteIdempotencyKeys(options_.idempotency_age, limit);
    case Sweep::kPaymentEvents:
      co_return co_await repository_.DeletePaymentEvents(options_.events_age, limit);
    case Sweep::kWebhookEvents:
      co_return co_await repository_.DeleteWebhookEvents(options_.events_age, limit);
    case Sweep::kJobs:
      co_return co_await repository_.DeleteSucceededJobs(options_.jobs_age, limit);
  }
  co_return 0;
}

Task<std::int64_t> Maintenance::SweepAll(Sweep sweep, const bool* stop) {
  std::int64_t total = 0;
  for (int batch = 0; batch < options_.cleanup_batches && !Stopped(stop); ++batch) {
    const std::int64_t deleted = co_await SweepBatch(sweep);
    total += deleted;
    if (deleted < options_.cleanup_batch) break;
  }
  co_return total;
}

Task<CleanupReport> Maintenance::Cleanup(const bool* stop) {
  CleanupReport report;
  report.sessions = co_await SweepAll(Sweep::kSessions, stop);
  report.idempotency_keys = co_await SweepAll(Sweep::kIdempotencyKeys, stop);
  report.payment_events = co_await SweepAll(Sweep::kPaymentEvents, stop);
  report.webhook_events = co_await SweepAll(Sweep::kWebhookEvents, stop);
  report.jobs = co_await SweepAll(Sweep::kJobs, stop);
  metrics_.Add("cleanup", "sessions", report.sessions);
  metrics_.Add("cleanup", "idempotency_keys", report.idempotency_keys);
  metrics_.Add("cleanup", "payment_events", report.payment_events);
  metrics_.Add("cleanup", "webhook_events", report.webhook_events);
  metrics_.Add("cleanup", "jobs", report.jobs);
  spdlog::info(
      "cleanup: deleted {} expired session families, {} idempotency records, {} payment events, "
      "{} webhook events, {} succeeded jobs",
      report.sessions, report.idempotency_keys, report.payment_events, report.webhook_events,
      report.jobs);
  co_return report;
}

// Media files stay: they are content-addressed and may be shared with other listings or named by
// the image snapshot of an order line, so only the rows that point to them go here.
Task<PurgeReport> Maintenance::PurgeInactive(const bool* stop) {
  PurgeReport report;
  for (int batch = 0; batch < options_.purge_batches && !Stopped(stop); ++batch) {
    services::PurgedAccounts purged =
        co_await repository_.PurgeDeletedAccounts(options_.purge_after, options_.purge_batch);
    for (const auto& user : purged.users)
      spdlog::info("purge_inactive: account {} anonymised", user.value);
    report.accounts += static_cast<std::int64_t>(purged.users.size());
    report.listings_deleted += purged.listings_deleted;
    report.listings_retired += purged.listings_retired;
    if (static_cast<int>(purged.users.size()) < options_.purge_batch) break;
  }
  for (int batch = 0; batch < options_.listings_batches && !Stopped(stop); ++batch) {
    const std::vector<ListingId> deleted =
        co_await repository_.DeleteRetiredListings(options_.purge_after, options_.listings_batch);
    report.listings_deleted += static_cast<std::int64_t>(deleted.size());
    if (static_cast<int>(deleted.size()) < options_.listings_batch) break;
  }
  metrics_.Add("purge_inactive", "accounts_anonymised", report.accounts);
  metrics_.Add("purge_inactive", "listings_deleted", report.listings_deleted);
  metrics_.Add("purge_inactive", "listings_retired", report.listings_retired);
  spdlog::info(
      "purge_inactive: {} accounts anonymised, {} listings deleted, {} kept for their orders and "
      "marked deleted",
      report.accounts, report.listings_deleted, report.listings_retired);
  co_return report;
}

namespace {

// Plain coroutine functions, so that no lambda frame has to outlive its call.
Task<void> RunExpireOrders(Maintenance& maintenance, JobContext& context) {
  co_await maintenance.ExpireOrders(&context.lease_lost);
}

Task<void> RunReconcileStock(Maintenance& maintenance, JobContext& context) {
  co_await maintenance.ReconcileStock(&context.lease_lost);
}

Task<void> RunCleanup(Maintenance& maintenance, JobContext& context) {
  co_await maintenance.Cleanup(&context.lease_lost);
}

Task<void> RunPurgeInactive(Maintenance& maintenance, JobContext& context) {
  co_await maintenance.PurgeInactive(&context.lease_lost);
}

Task<void> RunReconcilePayments(Maintenance& maintenance, JobContext& context) {
  co_await maintenance.ReconcilePayments(&context.lease_lost);
}

}  // namespace

void AddMaintenanceHandlers(HandlerRegistry& registry, Maintenance& maintenance) {
  registry.Add(std::string(kMaintenanceKinds[0]), [&maintenance](JobContext& context) {
    return RunExpireOrders(maintenance, context);
  });
  registry.Add(std::string(kMaintenanceKinds[1]), [&maintenance](JobContext& context) {
    return RunReconcileStock(maintenance, context);
  });
  registry.Add(std::string(kMaintenanceKinds[2]),
               [&maintenance](JobContext& context) { return RunCleanup(maintenance, context); });
  registry.Add(std::string(kMaintenanceKinds[3]), [&maintenance](JobContext& context) {
    return RunPurgeInactive(maintenance, context);
  });
  registry.Add(std::string(kMaintenanceKinds[4]), [&maintenance](JobContext& context) {
    return RunReconcilePayments(maintenance, context);
  });
}

}  // namespace market::jobs
