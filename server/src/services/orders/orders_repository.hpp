#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/task.hpp"
#include "domain/orders/order.hpp"
#include "services/database.hpp"

namespace market::services {

enum class KeyClaim { kClaimed, kReplay, kMismatch };

struct ClaimOutcome {
  KeyClaim claim = KeyClaim::kClaimed;
  std::optional<domain::OrderId> order;  // kReplay: the order the first request made
};

class OrdersRepository {
 public:
  virtual ~OrdersRepository() = default;

  // Serialises the buyer's checkouts: held until `tx` ends.
  virtual Task<void> LockBuyer(Transaction& tx, UserId buyer) = 0;
  // Records `key` for the buyer inside `tx`. A transaction holding the same key makes this wait
  // for its end: then this is a replay (same request hash) or a mismatch.
  virtual Task<ClaimOutcome> ClaimKey(Transaction& tx, UserId buyer, std::string_view key,
                                      std::string_view request_hash) = 0;
  virtual Task<int> PendingOrders(Transaction& tx, UserId buyer) = 0;
  // The buyer's cart lines with their listings. The listings are locked first, in id order (no
  // deadlocks between overlapping carts), and read in a second statement so that the reserved
  // stock includes every order committed before the locks were granted.
  virtual Task<std::vector<domain::CheckoutLine>> LockCart(Transaction& tx, UserId buyer) = 0;
  virtual Task<domain::OrderId> Insert(Transaction& tx, UserId buyer,
                                       const std::vector<domain::CheckoutLine>& lines,
                                       const domain::ShippingAddress& address,
                                       std::int64_t total_cents, TimePoint expires_at) = 0;
  virtual Task<void> CompleteKey(Transaction& tx, UserId buyer, std::string_view key,
                                 domain::OrderId order) = 0;
  virtual Task<void> RemoveFromCart(Transaction& tx, UserId buyer,
                                    const std::vector<domain::CheckoutLine>& lines) = 0;
  virtual Task<std::optional<domain::Order>> Find(domain::OrderId id) = 0;
};

}  // namespace market::services
