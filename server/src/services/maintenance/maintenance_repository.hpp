#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "common/ids.hpp"
#include "common/task.hpp"

namespace market::services {

// What one batch of purging did.
struct PurgedAccounts {
  std::vector<UserId> users;          // anonymised
  std::int64_t listings_deleted = 0;  // removed with their images
  std::int64_t listings_retired = 0;  // kept (orders refer to them), marked deleted, images removed
};

// The housekeeping statements of the maintenance jobs. Each call is one bounded batch in its own
// transaction: it does at most `limit` of its thing and answers how much it did, so a caller
// repeats it until it answers less than `limit`. Every call is idempotent: what it removes or
// anonymises no longer matches it.
class MaintenanceRepository {
 public:
  virtual ~MaintenanceRepository() = default;

  // Session families (with their refresh tokens) past their expiry, revoked or not. A revoked
  // family is kept until it expires, so that a stolen token presented again is still recognised.
  virtual Task<std::int64_t> DeleteExpiredSessions(int limit) = 0;
  // Idempotency records older than `age` (the order they point to stays).
  virtual Task<std::int64_t> DeleteIdempotencyKeys(std::chrono::seconds age, int limit) = 0;
  // Processed provider events (payment_events) received more than `age` ago.
  virtual Task<std::int64_t> DeletePaymentEvents(std::chrono::seconds age, int limit) = 0;
  // The local gateway's outgoing webhook events delivered or given up more than `age` ago.
  virtual Task<std::int64_t> DeleteWebhookEvents(std::chrono::seconds age, int limit) = 0;
  // Jobs that succeeded more than `age` ago.
  virtual Task<std::int64_t> DeleteSucceededJobs(std::chrono::seconds age, int limit) = 0;

  // Anonymises up to `limit` accounts soft-deleted more than `age` ago: username and email become
  // placeholders, display name "Deleted user", the password hash is emptied, sessions, cart,
  // idempotency records go; their listings lose their images and are removed, or, when an order
  // refers to one, marked deleted with an empty description. Orders and their snapshots stay.
  virtual Task<PurgedAccounts> PurgeDeletedAccounts(std::chrono::seconds age, int limit) = 0;
  // Removes up to `limit` listings inactive or deleted for more than `age` that no order refers
  // to (their images and cart lines go with them). Answers which.
  virtual Task<std::vector<ListingId>> DeleteRetiredListings(std::chrono::seconds age,
                                                             int limit) = 0;
};

}  // namespace market::services
