#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/task.hpp"
#include "jobs/worker.hpp"
#include "services/maintenance/maintenance_repository.hpp"
#include "services/orders/orders_repository.hpp"
#include "services/orders/orders_service.hpp"
#include "services/orders/stock_gate.hpp"
#include "services/payments/payments_service.hpp"

namespace market::jobs {

// The kinds AddMaintenanceHandlers registers (the scheduler enqueues them with payload {}).
inline constexpr std::array<std::string_view, 5> kMaintenanceKinds = {
    "expire_orders", "reconcile_stock", "cleanup", "purge_inactive", "reconcile_payments"};

// Limits per run, so that no run holds a worker for long however much has piled up: what is left
// is done by the next run. Ages are how old a row must be to go.
struct MaintenanceOptions {
  int expire_batch = 100;
  int expire_batches = 20;
  int reconcile_page = 500;
  int reconcile_max = 20'000;  // counters compared
  int reconcile_pages = 200;   // SCAN calls (most keys in Redis may not be counters)
  int cleanup_batch = 1000;
  int cleanup_batches = 20;
  std::chrono::seconds idempotency_age = std::chrono::hours(24);
  std::chrono::seconds events_age = std::chrono::hours(24 * 30);
  std::chrono::seconds jobs_age = std::chrono::hours(24 * 7);
  std::chrono::seconds purge_after = std::chrono::hours(24 * 30);
  int purge_batch = 50;
  int purge_batches = 10;
  int listings_batch = 500;
  int listings_batches = 10;
  // An unpaid order's intent is first asked about this long after the order was placed (its
  // webhook normally comes within seconds), and then again at most this often.
  std::chrono::seconds payments_age = std::chrono::minutes(10);
  int payments_batch = 100;
  int payments_batches = 10;
};

// What the maintenance jobs did, as Prometheus counters:
//   marketplace_maintenance_items_total{job, item}            rows expired, deleted, anonymised…
//   marketplace_stock_counter_corrections_total{drift}        Redis counters found to disagree
//                                                             with PostgreSQL, and dropped
// Thread-safe.
class MaintenanceMetrics {
 public:
  enum class Drift { kTooHigh, kTooLow, kNoListing };

  void Add(std::string_view job, std::string_view item, std::int64_t n);
  void Corrected(Drift drift);

  std::int64_t items(std::string_view job, std::string_view item) const;
  std::int64_t corrections() const;
  std::string Render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::int64_t, std::less<>> items_;
  std::array<std::int64_t, 3> corrections_{};
};

struct ExpireReport {
  int expired = 0;       // unpaid orders past their deadline, now expired
  int refunds_sent = 0;  // pending refunds the provider accepted
};

struct ReconcileReport {
  int checked = 0;        // counters compared with PostgreSQL
  int corrected = 0;      // counters that disagreed and were dropped
  bool complete = false;  // every counter was seen (not cut short by a limit, or Redis)
};

struct CleanupReport {
  std::int64_t sessions = 0;
  std::int64_t idempotency_keys = 0;
  std::int64_t payment_events = 0;
  std::int64_t webhook_events = 0;
  std::int64_t jobs = 0;
};

struct PurgeReport {
  std::int64_t accounts = 0;
  std::int64_t listings_deleted = 0;  // of purged accounts, or retired for longer than the limit
  std::int64_t listings_retired = 0;  // of purged accounts, kept for the orders that refer to them
};

// The periodic housekeeping, one method per job kind. Every method is idempotent and bounded by
// MaintenanceOptions; `stop` (the job's lease_lost, or null) is checked between batches. They
// run on the caller's io thread with its repositories and services.
class Maintenance {
 public:
  Maintenance(services::OrdersService& orders, services::PaymentsService& payments,
              services::OrdersRepository& orders_repository, services::StockGate& gate,
              services::MaintenanceRepository& repository, MaintenanceMetrics& metrics,
              MaintenanceOptions options = {});

  // expire_orders: OrdersService::ExpireDue in batches (each expired order's reservation is
  // released and its intent cancelled), then the refunds that are due.
  Task<ExpireReport> ExpireOrders(const bool* stop = nullptr);
  // reconcile_stock: compares every Redis counter that exists with PostgreSQL and drops those
  // that disagree (see the .cpp for why dropping, not setting).
  Task<ReconcileReport> ReconcileStock(const bool* stop = nullptr);
  // cleanup: expired sessions, old idempotency records, processed webhook events, succeeded jobs.
  Task<CleanupReport> Cleanup(const bool* stop = nullptr);
  // purge_inactive: anonymises accounts deleted long ago, removes listings retired long ago.
  Task<PurgeReport> PurgeInactive(const bool* stop = nullptr);
  // reconcile_payments: PaymentsService::ReconcileIntents in batches: payments whose webhook never
  // came are applied, closed orders' intents canceled at last.
  Task<services::PaymentsService::ReconcileReport> ReconcilePayments(const bool* stop = nullptr);

 private:
  enum class Sweep { kSessions, kIdempotencyKeys, kPaymentEvents, kWebhookEvents, kJobs };
  Task<std::int64_t> SweepBatch(Sweep sweep);
  Task<std::int64_t> SweepAll(Sweep sweep, const bool* stop);
  Task<void> Repair(const std::vector<services::StockLevel>& seen, ReconcileReport& report);

  services::OrdersService& orders_;
  services::PaymentsService& payments_;
  services::OrdersRepository& orders_repository_;
  services::StockGate& gate_;
  services::MaintenanceRepository& repository_;
  MaintenanceMetrics& metrics_;
  MaintenanceOptions options_;
};

// Registers expire_orders, reconcile_stock, cleanup and purge_inactive (kMaintenanceKinds). Their
// payloads are ignored. `maintenance` must outlive the registry's use.
void AddMaintenanceHandlers(HandlerRegistry& registry, Maintenance& maintenance);

}  // namespace market::jobs
