#pragma once

#include "services/maintenance/maintenance_repository.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

class PgMaintenanceRepository final : public services::MaintenanceRepository {
 public:
  explicit PgMaintenanceRepository(Pool& pool) : pool_(pool) {}

  Task<std::int64_t> DeleteExpiredSessions(int limit) override;
  Task<std::int64_t> DeleteIdempotencyKeys(std::chrono::seconds age, int limit) override;
  Task<std::int64_t> DeletePaymentEvents(std::chrono::seconds age, int limit) override;
  Task<std::int64_t> DeleteWebhookEvents(std::chrono::seconds age, int limit) override;
  Task<std::int64_t> DeleteSucceededJobs(std::chrono::seconds age, int limit) override;
  Task<services::PurgedAccounts> PurgeDeletedAccounts(std::chrono::seconds age, int limit) override;
  Task<std::vector<ListingId>> DeleteRetiredListings(std::chrono::seconds age, int limit) override;

 private:
  Pool& pool_;
};

}  // namespace market::pg
