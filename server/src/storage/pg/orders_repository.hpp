#pragma once

#include "services/orders/orders_repository.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

class PgOrdersRepository final : public services::OrdersRepository {
 public:
  explicit PgOrdersRepository(Pool& pool) : pool_(pool) {}

  Task<void> LockBuyer(services::Transaction& tx, UserId buyer) override;
  Task<services::ClaimOutcome> ClaimKey(services::Transaction& tx, UserId buyer,
                                        std::string_view key,
                                        std::string_view request_hash) override;
  Task<int> PendingOrders(services::Transaction& tx, UserId buyer) override;
  Task<std::vector<domain::CheckoutLine>> LockCart(services::Transaction& tx,
                                                   UserId buyer) override;
  Task<domain::OrderId> Insert(services::Transaction& tx, UserId buyer,
                               const std::vector<domain::CheckoutLine>& lines,
                               const domain::ShippingAddress& address, std::int64_t total_cents,
                               TimePoint expires_at) override;
  Task<void> CompleteKey(services::Transaction& tx, UserId buyer, std::string_view key,
                         domain::OrderId order) override;
  Task<void> RemoveFromCart(services::Transaction& tx, UserId buyer,
                            const std::vector<domain::CheckoutLine>& lines) override;
  Task<std::optional<domain::Order>> Find(domain::OrderId id) override;

 private:
  Pool& pool_;
};

}  // namespace market::pg
