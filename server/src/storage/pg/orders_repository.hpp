#pragma once

#include "services/orders/orders_repository.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

class PgOrdersRepository final : public services::OrdersRepository {
 public:
  explicit PgOrdersRepository(Pool& pool) : pool_(pool) {}

  Task<services::CheckoutStart> StartCheckout(services::Transaction& tx, UserId buyer,
                                              std::string_view key,
                                              std::string_view request_hash) override;
  Task<services::PlacedRows> InsertAndLockStock(services::Transaction& tx, UserId buyer,
                                                std::string_view key,
                                                const std::vector<domain::CheckoutLine>& lines,
                                                const domain::ShippingAddress& address,
                                                std::int64_t total_cents,
                                                TimePoint expires_at) override;
  Task<std::optional<domain::Order>> Find(domain::OrderId id) override;

  Task<std::vector<services::StockWant>> CartWants(UserId buyer) override;
  Task<std::vector<domain::CheckoutLine>> CartLines(UserId buyer) override;
  Task<std::vector<services::StockLevel>> StockLevels(
      const std::vector<ListingId>& listings) override;
  Task<std::optional<domain::OrderId>> KeyOrder(UserId buyer, std::string_view key) override;

  Task<std::optional<domain::Order>> Lock(services::Transaction& tx, domain::OrderId id) override;
  Task<std::vector<domain::Order>> LockExpired(services::Transaction& tx, int limit) override;
  Task<std::optional<std::string>> AttachIntent(domain::OrderId id, std::string_view provider,
                                                std::string_view intent_id) override;
  Task<bool> DetachCanceledIntent(domain::OrderId id, std::string_view intent_id) override;
  Task<void> ReturnStock(services::Transaction& tx,
                         const std::vector<services::StockWant>& lines) override;
  Task<void> SetStatus(services::Transaction& tx, domain::OrderId id,
                       domain::OrderStatus status) override;
  Task<services::PaidCommit> CommitPaid(services::Transaction& tx, domain::OrderId id,
                                        std::string_view intent_id,
                                        const std::vector<services::StockWant>& lines,
                                        std::string_view provider, std::string_view event_id,
                                        std::string_view event_type) override;
  Task<void> CancelItems(services::Transaction& tx, domain::OrderId id) override;
  Task<void> ShipItems(services::Transaction& tx, domain::OrderId id,
                       const std::vector<std::int64_t>& items, std::string_view carrier,
                       std::string_view tracking_code) override;
  Task<void> DeliverItems(services::Transaction& tx, domain::OrderId id,
                          const std::vector<std::int64_t>& items) override;
  Task<void> AddEvent(services::Transaction& tx, domain::OrderId id,
                      std::optional<std::int64_t> item, std::string_view type, domain::Actor actor,
                      std::optional<UserId> actor_id, std::string_view detail) override;
  Task<bool> RecordPaymentEvent(services::Transaction& tx, std::string_view provider,
                                std::string_view event_id, std::string_view type,
                                std::optional<domain::OrderId> order,
                                std::string_view outcome) override;
  Task<bool> AddRefund(services::Transaction& tx, const domain::Order& order,
                       std::string_view reason) override;
  Task<int> RefundItems(services::Transaction& tx, const domain::Order& order,
                        const std::vector<std::int64_t>& items, std::string_view reason) override;
  Task<std::vector<RefundTask>> LeaseRefunds(std::optional<domain::OrderId> order,
                                             int limit) override;
  Task<void> RefundSucceeded(std::int64_t refund, std::string_view provider_refund_id) override;
  Task<void> RefundFailed(std::int64_t refund, std::string_view error) override;
  Task<std::vector<IntentCheck>> IntentsToCheck(std::string_view provider, std::chrono::seconds age,
                                                int limit) override;
  Task<void> IntentSettled(domain::OrderId id) override;
  Task<std::optional<domain::OrderId>> OrderOfIntent(std::string_view provider,
                                                     std::string_view intent_id) override;
  Task<std::vector<domain::Order>> List(const ListQuery& query) override;

 private:
  Pool& pool_;
};

}  // namespace market::pg
