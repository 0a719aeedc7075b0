#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/task.hpp"
#include "domain/orders/order.hpp"
#include "services/database.hpp"
#include "services/orders/stock_gate.hpp"

namespace market::services {

enum class KeyClaim { kClaimed, kReplay, kMismatch };

struct ClaimOutcome {
  KeyClaim claim = KeyClaim::kClaimed;
  std::optional<domain::OrderId> order;  // kReplay: the order the first request made
};

enum class PaidCommit { kCommitted, kEventRecordedBefore, kStockShort };

struct PlacedRows {
  domain::Order order;
  std::vector<domain::LockedStock> locked;  // the order's listings, in id order
};

struct CheckoutStart {
  ClaimOutcome claim;
  int pending_orders = 0;  // the buyer's unpaid orders not yet expired
  std::vector<domain::CheckoutLine> lines;
};

class OrdersRepository {
 public:
  virtual ~OrdersRepository() = default;

  // Opens a checkout inside `tx`, in one round trip: locks the buyer (serialising their
  // checkouts until `tx` ends), records `key` for them (a transaction holding the same key makes
  // this wait for its end: then it is a replay, same request hash, or a mismatch), counts their
  // unpaid orders and reads their cart lines with the listings, without locks and with
  // `reserved` left 0: availability is checked under the locks (LockStock).
  virtual Task<CheckoutStart> StartCheckout(Transaction& tx, UserId buyer, std::string_view key,
                                            std::string_view request_hash) = 0;
  // In one round trip: writes the order with its snapshot lines and its order.placed event,
  // links the buyer's Idempotency-Key to it and takes its lines out of the cart (one statement);
  // then locks the lines' listings in id order (so overlapping checkouts cannot deadlock) and
  // reads them in a statement of its own, so that the reserved stock includes every order
  // committed before the locks were granted, and this one. The order is returned as Find would
  // read it once committed.
  virtual Task<PlacedRows> InsertAndLockStock(Transaction& tx, UserId buyer, std::string_view key,
                                              const std::vector<domain::CheckoutLine>& lines,
                                              const domain::ShippingAddress& address,
                                              std::int64_t total_cents, TimePoint expires_at) = 0;
  virtual Task<std::optional<domain::Order>> Find(domain::OrderId id) = 0;

  // --- For the stock gate (no transaction) ---
  // What the buyer's cart asks for, as it is now.
  virtual Task<std::vector<StockWant>> CartWants(UserId buyer) = 0;
  // The cart lines with their listings as they are now, without locks: to explain a refusal.
  virtual Task<std::vector<domain::CheckoutLine>> CartLines(UserId buyer) = 0;
  // Available stock (on hand minus unexpired reservations) of each listing that exists.
  virtual Task<std::vector<StockLevel>> StockLevels(const std::vector<ListingId>& listings) = 0;
  // The order an earlier request with this key made, if it finished.
  virtual Task<std::optional<domain::OrderId>> KeyOrder(UserId buyer, std::string_view key) = 0;

  // --- The lifecycle ---
  // Locks the order row for the rest of `tx` and reads the order under the lock.
  virtual Task<std::optional<domain::Order>> Lock(Transaction& tx, domain::OrderId id) = 0;
  // Up to `limit` unpaid orders past their deadline that nobody else holds, locked for `tx`.
  virtual Task<std::vector<domain::Order>> LockExpired(Transaction& tx, int limit) = 0;
  // Records the provider's intent for the order unless it has one; answers the one it has. Nothing
  // when the order has none and can no longer be paid (cancelled or expired meanwhile).
  virtual Task<std::optional<std::string>> AttachIntent(domain::OrderId id,
                                                        std::string_view provider,
                                                        std::string_view intent_id) = 0;
  // Forgets the order's intent `intent_id`, which the provider canceled while the order still
  // waits for payment, with an order.event saying so; false when the order no longer has that
  // intent or no longer waits.
  virtual Task<bool> DetachCanceledIntent(domain::OrderId id, std::string_view intent_id) = 0;
  // Puts the lines' stock back (listings locked in id order).
  virtual Task<void> ReturnStock(Transaction& tx, const std::vector<StockWant>& lines) = 0;
  // Any status but paid, which CommitPaid sets with its lines and event.
  virtual Task<void> SetStatus(Transaction& tx, domain::OrderId id, domain::OrderStatus status) = 0;
  // The end of a successful payment, in one round trip that ends `tx`: the order paid by
  // `intent_id` (its lines awaiting shipment, its order.paid event), the provider's event
  // recorded with outcome "paid", then the lines' stock taken out of listings.quantity (in id
  // order: the hot rows last, held for no round trip), and COMMIT. Nothing is kept when the event
  // was recorded before or some listing has less on hand than its line.
  virtual Task<PaidCommit> CommitPaid(Transaction& tx, domain::OrderId id,
                                      std::string_view intent_id,
                                      const std::vector<StockWant>& lines,
                                      std::string_view provider, std::string_view event_id,
                                      std::string_view event_type) = 0;
  // Cancels every item not yet shipped.
  virtual Task<void> CancelItems(Transaction& tx, domain::OrderId id) = 0;
  virtual Task<void> ShipItems(Transaction& tx, domain::OrderId id,
                               const std::vector<std::int64_t>& items, std::string_view carrier,
                               std::string_view tracking_code) = 0;
  virtual Task<void> DeliverItems(Transaction& tx, domain::OrderId id,
                                  const std::vector<std::int64_t>& items) = 0;
  virtual Task<void> AddEvent(Transaction& tx, domain::OrderId id, std::optional<std::int64_t> item,
                              std::string_view type, domain::Actor actor,
                              std::optional<UserId> actor_id, std::string_view detail) = 0;
  // Records a provider's webhook event; false if it was recorded before (nothing more to do).
  virtual Task<bool> RecordPaymentEvent(Transaction& tx, std::string_view provider,
                                        std::string_view event_id, std::string_view type,
                                        std::optional<domain::OrderId> order,
                                        std::string_view outcome) = 0;
  // A refund of the whole payment (less what line refunds returned), pending until the provider
  // confirms it, which settles the order's intent. Once per order: false when the order has one
  // already.
  virtual Task<bool> AddRefund(Transaction& tx, const domain::Order& order,
                               std::string_view reason) = 0;
  // Cancels those of `items` that await shipment, each with a pending refund of its line total
  // (once per line). Answers how many were refunded.
  virtual Task<int> RefundItems(Transaction& tx, const domain::Order& order,
                                const std::vector<std::int64_t>& items,
                                std::string_view reason) = 0;

  // Pending refunds due for an attempt, leased: each is not handed out again until its next
  // attempt time, which backs off.
  struct RefundTask {
    std::int64_t id = 0;
    domain::OrderId order;
    std::string provider;
    std::string intent_id;
    std::int64_t amount_cents = 0;
    std::string reason;
  };
  virtual Task<std::vector<RefundTask>> LeaseRefunds(std::optional<domain::OrderId> order,
                                                     int limit) = 0;
  virtual Task<void> RefundSucceeded(std::int64_t refund, std::string_view provider_refund_id) = 0;
  virtual Task<void> RefundFailed(std::int64_t refund, std::string_view error) = 0;

  // Unpaid orders with a provider intent that is not settled: pending ones at least `age` old,
  // closed ones (expired, cancelled) whose intent was not canceled at the provider and whose
  // payment is not being refunded. Each is handed out again only `age` after it was last.
  struct IntentCheck {
    domain::OrderId order;
    std::string intent_id;
    bool closed = false;  // expired or cancelled (not merely past its deadline)
  };
  virtual Task<std::vector<IntentCheck>> IntentsToCheck(std::string_view provider,
                                                        std::chrono::seconds age, int limit) = 0;
  // The order an intent pays for (events about charges and disputes need not carry its metadata).
  virtual Task<std::optional<domain::OrderId>> OrderOfIntent(std::string_view provider,
                                                             std::string_view intent_id) = 0;
  // The intent will never take money for the order (canceled), or its payment is refunded.
  virtual Task<void> IntentSettled(domain::OrderId id) = 0;

  // A page of orders, newest first: the buyer's, or those with a line sold by `seller`.
  struct ListQuery {
    UserId viewer;
    bool as_seller = false;
    std::optional<domain::OrderStatus> status;  // the effective status
    std::optional<std::int64_t> before;         // order ids below this
    int limit = 20;
  };
  virtual Task<std::vector<domain::Order>> List(const ListQuery& query) = 0;
};

}  // namespace market::services
