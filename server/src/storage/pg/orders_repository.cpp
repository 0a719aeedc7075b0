#include "storage/pg/orders_repository.hpp"

#include <boost/json.hpp>

#include <algorithm>

#include "storage/pg/params.hpp"
#include "storage/pg/stock_sql.hpp"

namespace market::pg {
namespace {

namespace json = boost::json;

constexpr Statement kLockBuyer{"orders.lock_buyer",
                               "SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE"};

constexpr Statement kClaimKey{
    "orders.claim_key",
    "INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3) "
    "ON CONFLICT (user_id, key) DO NOTHING RETURNING user_id"};

constexpr Statement kFindKey{
    "orders.find_key",
    "SELECT request_hash = $3 AS same_request, order_id FROM idempotency_keys "
    "WHERE user_id = $1 AND key = $2"};

constexpr Statement kPendingOrders{
    "orders.pending_count",
    "SELECT count(*) AS n FROM orders WHERE buyer_id = $1 AND status = 'pending_payment' "
    "AND expires_at > now()"};

constexpr Statement kLockListings{
    "orders.lock_listings",
    "SELECT id FROM listings WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE"};

// A separate statement from the locking one: it starts after the locks were granted, so its
// snapshot sees every reservation committed by the checkouts it waited for.
constexpr Statement kLockedStock{
    "orders.locked_stock",
    "SELECT l.id, l.seller_id, l.price_cents, l.status = 'active' AS active, l.quantity AS "
    "stock, " MARKET_RESERVED_SQL(
        "l.id") " AS reserved FROM listings l WHERE l.id = ANY($1::bigint[])"};

#define MARKET_CART_LINES(reserved)                                                              \
  "SELECT c.listing_id, c.quantity, l.seller_id, u.username::text AS seller_username, "          \
  "u.display_name AS seller_display_name, l.title, l.price_cents, l.currency, "                  \
  "l.status = 'active' AS active, l.quantity AS stock, " reserved                                \
  " AS reserved, "                                                                               \
  "(SELECT i.small_key FROM listing_images i WHERE i.listing_id = l.id AND i.is_main) AS "       \
  "image_key "                                                                                   \
  "FROM cart_items c JOIN listings l ON l.id = c.listing_id JOIN users u ON u.id = l.seller_id " \
  "WHERE c.user_id = $1 ORDER BY l.id"

// With the reserved stock: to explain a refusal.
constexpr Statement kCartLines{"orders.cart_lines", MARKET_CART_LINES(MARKET_RESERVED_SQL("l.id"))};
// Without: inside checkout, where availability is checked under the listing locks anyway.
constexpr Statement kCartLinesToOrder{"orders.cart_lines_to_order", MARKET_CART_LINES("0")};

// The whole order in one round trip: the order, its lines (from a JSON array, in the given
// order), its first event, the idempotency key's link, and the cart lines it took.

// Microseconds since the epoch, for timestamps inside json_agg.
#define MARKET_US(column) "(extract(epoch from " column ") * 1000000)::bigint"

// The JSON of an order_items row `i` / an order_events row `e`, for json_agg.
#define MARKET_ITEM_JSON                                                                          \
  "json_build_object('id', i.id, 'listing_id', i.listing_id, 'seller_id', i.seller_id, "          \
  "'seller_username', i.seller_username, 'seller_display_name', i.seller_display_name, 'title', " \
  "i.title, 'unit_price_cents', i.unit_price_cents, 'currency', i.currency, 'quantity', "         \
  "i.quantity, 'image_key', i.image_key, 'status', i.status, 'carrier', i.carrier, "              \
  "'tracking_code', i.tracking_code, 'shipped_at', " MARKET_US(                                   \
      "i.shipped_at") ", 'delivered_at', " MARKET_US("i.delivered_at") ")"
#define MARKET_EVENT_JSON                                                                       \
  "json_build_object('item_id', e.item_id, 'type', e.type, 'actor', e.actor, 'at', " MARKET_US( \
      "e.created_at") ")"

// The columns of an order row `o` (joined to its buyer `bu`) that OrderFromRow reads, up to its
// items, events and refunds.
#define MARKET_ORDER_COLUMNS                                                                \
  "SELECT o.id, o.buyer_id, bu.username::text AS buyer_username, bu.display_name AS "       \
  "buyer_display_name, o.status, o.expires_at <= now() AS past_expiry, o.currency, "        \
  "o.total_cents, "                                                                         \
  "o.shipping_address::text AS shipping_address, o.payment_provider, o.payment_intent_id, " \
  "o.paid_at, o.expires_at, o.created_at, o.updated_at, "

// An order with its items, events and refunds, in one row. Followed by a WHERE on `o`.
#define MARKET_ORDER_SELECT \
  MARKET_ORDER_COLUMNS      \
  "(SELECT json_agg(" MARKET_ITEM_JSON " ORDER BY i.id) FROM order_items i WHERE i.order_id = "  \
  "o.id)::text AS items, "                                                                       \
  "(SELECT json_agg(" MARKET_EVENT_JSON " ORDER BY e.id) FROM order_events e WHERE e.order_id = " \
  "o.id)::text AS events, "                                                                      \
  "(SELECT json_agg(json_build_object('amount_cents', r.amount_cents, 'currency', r.currency, "  \
  "'reason', r.reason, 'status', r.status, 'item_id', r.item_id, 'at', "                          \
  MARKET_US("r.created_at")                                                                       \
  ") ORDER BY r.id) FROM refunds r WHERE r.order_id = o.id)::text AS refunds "                   \
  "FROM orders o JOIN users bu ON bu.id = o.buyer_id "

// The order, its lines, its event, the key's link to it and the cart lines it takes, in one
// statement; it answers with the order as kFind would read it after commit.
constexpr Statement kInsertOrder{
    "orders.insert",
    "WITH o AS (INSERT INTO orders (buyer_id, currency, total_cents, shipping_address, expires_at) "
    "VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING *), "
    "items AS (INSERT INTO order_items (order_id, listing_id, seller_id, seller_username, "
    "seller_display_name, title, unit_price_cents, currency, quantity, image_key) "
    "SELECT o.id, (l.v->>'listing_id')::bigint, (l.v->>'seller_id')::bigint, "
    "l.v->>'seller_username', l.v->>'seller_display_name', l.v->>'title', "
    "(l.v->>'unit_price_cents')::bigint, l.v->>'currency', (l.v->>'quantity')::integer, "
    "l.v->>'image_key' FROM o, json_array_elements($6::json) WITH ORDINALITY AS l(v, n) "
    "ORDER BY l.n RETURNING *), "
    "event AS (INSERT INTO order_events (order_id, type, actor, actor_id) "
    "SELECT o.id, 'order.placed', 'buyer', $1 FROM o RETURNING *), "
    "keyed AS (UPDATE idempotency_keys SET order_id = (SELECT id FROM o) WHERE user_id = $1 AND "
    "key = $7), "
    "taken AS (DELETE FROM cart_items WHERE user_id = $1 AND listing_id IN "
    "(SELECT (e->>'listing_id')::bigint FROM json_array_elements($6::json) "
    "e)) " MARKET_ORDER_COLUMNS "(SELECT json_agg(" MARKET_ITEM_JSON
    " ORDER BY i.id) FROM items i)::text "
    "AS items, (SELECT json_agg(" MARKET_EVENT_JSON
    " ORDER BY e.id) FROM event e)::text AS events, "
    "NULL::text AS refunds FROM o JOIN users bu ON bu.id = o.buyer_id"};

constexpr Statement kFind{"orders.find", MARKET_ORDER_SELECT "WHERE o.id = $1"};

constexpr Statement kLockOrder{"orders.lock", "SELECT id FROM orders WHERE id = $1 FOR UPDATE"};

constexpr Statement kLockExpired{
    "orders.lock_expired",
    "SELECT id FROM orders WHERE status = 'pending_payment' AND expires_at <= now() "
    "ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED"};

constexpr Statement kFindMany{"orders.find_many",
                              MARKET_ORDER_SELECT "WHERE o.id = ANY($1::bigint[]) ORDER BY o.id"};

constexpr Statement kCartWants{
    "orders.cart_wants",
    "SELECT listing_id, quantity FROM cart_items WHERE user_id = $1 ORDER BY listing_id"};

constexpr Statement kStockLevels{
    "orders.stock_levels",
    "SELECT l.id, l.quantity - " MARKET_RESERVED_SQL("l.id") " AS available FROM listings l "
    "WHERE l.id = ANY($1::bigint[])"};

constexpr Statement kKeyOrder{
    "orders.key_order",
    "SELECT order_id FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND order_id IS NOT "
    "NULL"};

// Only onto an order that can still be paid: a cancel or expiry that got the row first wins.
constexpr Statement kAttachIntent{
    "orders.attach_intent",
    "WITH set AS (UPDATE orders SET payment_provider = $2, payment_intent_id = $3, updated_at = "
    "now() WHERE id = $1 AND payment_intent_id IS NULL AND status = 'pending_payment' AND "
    "expires_at > now() RETURNING payment_intent_id) "
    "SELECT payment_intent_id FROM set UNION ALL "
    "SELECT payment_intent_id FROM orders WHERE id = $1 AND payment_intent_id IS NOT NULL AND "
    "NOT EXISTS (SELECT 1 FROM set)"};

constexpr Statement kDetachCanceledIntent{
    "orders.detach_canceled_intent",
    "WITH detached AS (UPDATE orders SET payment_intent_id = NULL, updated_at = now() WHERE id = "
    "$1 AND payment_intent_id = $2 AND status = 'pending_payment' AND paid_at IS NULL RETURNING "
    "id) INSERT INTO order_events (order_id, type, actor, detail) SELECT id, 'payment.canceled', "
    "'provider', 'the payment was canceled at the provider; a new one is started' FROM detached "
    "RETURNING order_id"};

constexpr Statement kOrderIntent{"orders.intent",
                                 "SELECT payment_intent_id FROM orders WHERE id = $1"};

constexpr Statement kAddStock{
    "orders.add_stock",
    "UPDATE listings SET quantity = quantity + $2, version = version + 1, updated_at = now() "
    "WHERE id = $1"};

constexpr Statement kSetStatus{"orders.set_status",
                               "UPDATE orders SET status = $2, updated_at = now() WHERE id = $1"};

// Paid: the order, its lines awaiting shipment, and the event, in one round trip.
constexpr Statement kMarkPaid{
    "orders.mark_paid",
    "WITH paid AS (UPDATE orders SET status = 'paid', paid_at = now(), updated_at = now() "
    "WHERE id = $1 RETURNING id), "
    "items AS (UPDATE order_items SET status = 'awaiting_shipment' WHERE order_id = $1 AND "
    "status = 'pending_payment') "
    "INSERT INTO order_events (order_id, type, actor, detail) "
    "SELECT id, 'order.paid', 'provider', $2 FROM paid"};

constexpr Statement kCancelItems{
    "orders.cancel_items",
    "UPDATE order_items SET status = 'cancelled' WHERE order_id = $1 AND status IN "
    "('pending_payment', 'awaiting_shipment')"};

constexpr Statement kShipItems{
    "orders.ship_items",
    "UPDATE order_items SET status = 'shipped', carrier = $3, tracking_code = $4, shipped_at = "
    "now() WHERE order_id = $1 AND id = ANY($2::bigint[]) AND status = 'awaiting_shipment'"};

constexpr Statement kDeliverItems{
    "orders.deliver_items",
    "UPDATE order_items SET status = 'delivered', delivered_at = now() WHERE order_id = $1 AND "
    "id = ANY($2::bigint[]) AND status = 'shipped'"};

constexpr Statement kTouchOrder{"orders.touch",
                                "UPDATE orders SET updated_at = now() WHERE id = $1"};

constexpr Statement kAddEvent{
    "orders.add_event",
    "INSERT INTO order_events (order_id, item_id, type, actor, actor_id, detail) "
    "VALUES ($1, $2, $3, $4, $5, nullif($6, ''))"};

// Without ON CONFLICT: a duplicate fails the batch it is in (CommitPaid).
constexpr Statement kInsertPaymentEvent{
    "orders.insert_payment_event",
    "INSERT INTO payment_events (provider, event_id, type, order_id, outcome) "
    "VALUES ($1, $2, $3, $4, $5)"};

constexpr Statement kRecordPaymentEvent{
    "orders.record_payment_event",
    "INSERT INTO payment_events (provider, event_id, type, order_id, outcome) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING event_id"};

// The refund of what no line refund has returned yet; it settles the order's intent.
constexpr Statement kAddRefund{
    "orders.add_refund",
    "WITH refund AS (INSERT INTO refunds (order_id, provider, payment_intent_id, amount_cents, "
    "currency, reason) SELECT $1::bigint, $2::text, $3::text, $4::bigint - COALESCE((SELECT "
    "sum(amount_cents) FROM refunds WHERE order_id = $1 AND item_id IS NOT NULL), 0), $5::text, "
    "$6::text ON CONFLICT (order_id) WHERE item_id IS NULL DO NOTHING RETURNING order_id), "
    "settled AS (UPDATE orders SET intent_settled_at = now() WHERE id IN (SELECT order_id FROM "
    "refund) AND intent_settled_at IS NULL) SELECT count(*) AS added FROM refund"};

// $1 order, $2 item ids, $3 provider, $4 intent, $5 reason: the lines awaiting shipment among
// them are cancelled, each with a refund of its total.
constexpr Statement kRefundItems{
    "orders.refund_items",
    "WITH items AS (UPDATE order_items SET status = 'cancelled' WHERE order_id = $1 AND id = "
    "ANY($2::bigint[]) AND status = 'awaiting_shipment' RETURNING id, unit_price_cents * quantity "
    "AS amount, currency), refund AS (INSERT INTO refunds (order_id, item_id, provider, "
    "payment_intent_id, amount_cents, currency, reason) SELECT $1, id, $3::text, $4::text, "
    "amount, currency, $5::text FROM items ON CONFLICT (item_id) WHERE item_id IS NOT NULL DO "
    "NOTHING RETURNING item_id) "
    "SELECT count(*) AS refunded FROM refund"};

// $1 provider, $2 seconds, $3 how many. SKIP LOCKED: an order in a checkout or a webhook now is
// checked next time.
constexpr Statement kIntentsToCheck{
    "orders.intents_to_check",
    "UPDATE orders o SET intent_checked_at = now() WHERE o.id IN (SELECT id FROM orders WHERE "
    "payment_intent_id IS NOT NULL AND intent_settled_at IS NULL AND paid_at IS NULL AND "
    "payment_provider = $1 AND created_at <= now() - make_interval(secs => $2) AND "
    "(intent_checked_at IS NULL OR intent_checked_at <= now() - make_interval(secs => $2)) AND "
    "NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = orders.id) "
    "ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED) "
    "RETURNING o.id, o.payment_intent_id, o.status IN ('expired', 'cancelled') AS closed"};

constexpr Statement kOrderOfIntent{
    "orders.order_of_intent",
    "SELECT id FROM orders WHERE payment_provider = $1 AND payment_intent_id = $2"};

constexpr Statement kIntentSettled{
    "orders.intent_settled",
    "UPDATE orders SET intent_settled_at = now() WHERE id = $1 AND intent_settled_at IS NULL"};

// A lease: a refund handed out is not handed out again before its next attempt time, so two
// sweeps never ask the provider at once (and the idempotency key covers a lease that ran out).
constexpr Statement kLeaseRefunds{
    "orders.lease_refunds",
    "UPDATE refunds SET attempts = attempts + 1, next_attempt_at = now() + "
    "least(interval '1 hour', interval '2 seconds' * power(2, least(attempts, 12))), "
    "updated_at = now() WHERE id IN (SELECT id FROM refunds WHERE status = 'pending' AND "
    "next_attempt_at <= now() AND ($1::bigint IS NULL OR order_id = $1) ORDER BY next_attempt_at "
    "LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "RETURNING id, order_id, provider, payment_intent_id, amount_cents, reason"};

// Before the refund's row: a webhook or cancel holds the order row (FOR UPDATE) while it adds a
// refund, and the event below needs the order row (its foreign key): taking the order first keeps
// the two in the same lock order (they deadlocked when this took the refund first).
constexpr Statement kLockRefundOrder{
    "orders.lock_refund_order",
    "SELECT 1 FROM orders WHERE id = (SELECT order_id FROM refunds WHERE id = $1) FOR KEY SHARE"};

constexpr Statement kRefundSucceeded{
    "orders.refund_succeeded",
    "WITH done AS (UPDATE refunds SET status = 'succeeded', provider_refund_id = $2, "
    "last_error = NULL, updated_at = now() WHERE id = $1 AND status = 'pending' RETURNING "
    "order_id) INSERT INTO order_events (order_id, type, actor, detail) SELECT order_id, "
    "'refund.succeeded', 'provider', $2 FROM done"};

constexpr Statement kRefundFailed{
    "orders.refund_failed", "UPDATE refunds SET last_error = $2, updated_at = now() WHERE id = $1"};

// The effective status, as Order::Status() computes it.
#define MARKET_EFFECTIVE_STATUS                                                            \
  "(CASE WHEN o.status = 'pending_payment' AND o.expires_at <= now() THEN 'expired' ELSE " \
  "o.status END)"

constexpr Statement kListBuyer{"orders.list_buyer",
                               "SELECT o.id FROM orders o WHERE o.buyer_id = $1 AND ($2::text IS "
                               "NULL OR " MARKET_EFFECTIVE_STATUS
                               " = $2) AND ($3::bigint IS NULL OR o.id < $3) "
                               "ORDER BY o.id DESC LIMIT $4"};

constexpr Statement kListSeller{
    "orders.list_seller",
    "SELECT o.id FROM orders o WHERE o.id IN (SELECT DISTINCT i.order_id FROM order_items i "
    "WHERE i.seller_id = $1 AND ($3::bigint IS NULL OR i.order_id < $3)) AND ($2::text IS NULL "
    "OR " MARKET_EFFECTIVE_STATUS " = $2) ORDER BY o.id DESC LIMIT $4"};

std::string AddressJson(const domain::ShippingAddress& a) {
  return json::serialize(json::object{{"recipient_name", a.recipient_name},
                                      {"line1", a.line1},
                                      {"line2", a.line2},
                                      {"city", a.city},
                                      {"region", a.region},
                                      {"postal_code", a.postal_code},
                                      {"country", a.country},
                                      {"phone", a.phone}});
}

domain::ShippingAddress AddressFromJson(const json::object& o) {
  auto text = [&o](const char* key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  return domain::ShippingAddress{.recipient_name = text("recipient_name"),
                                 .line1 = text("line1"),
                                 .line2 = text("line2"),
                                 .city = text("city"),
                                 .region = text("region"),
                                 .postal_code = text("postal_code"),
                                 .country = text("country"),
                                 .phone = text("phone")};
}

std::optional<TimePoint> OptMicros(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  return TimePoint(std::chrono::microseconds(v->to_number<std::int64_t>()));
}

std::optional<std::string> OptText(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->as_string());
}

domain::OrderItem ItemFromJson(const json::object& o) {
  return domain::OrderItem{
      .id = o.at("id").to_number<std::int64_t>(),
      .listing_id = ListingId{o.at("listing_id").to_number<std::int64_t>()},
      .seller_id = UserId{o.at("seller_id").to_number<std::int64_t>()},
      .seller_username = std::string(o.at("seller_username").as_string()),
      .seller_display_name = std::string(o.at("seller_display_name").as_string()),
      .title = std::string(o.at("title").as_string()),
      .unit_price_cents = o.at("unit_price_cents").to_number<std::int64_t>(),
      .currency = std::string(o.at("currency").as_string()),
      .quantity = o.at("quantity").to_number<int>(),
      .image_key = OptText(o, "image_key"),
      .status = domain::ParseItemStatus(o.at("status").as_string())
                    .value_or(domain::ItemStatus::kPendingPayment),
      .carrier = OptText(o, "carrier"),
      .tracking_code = OptText(o, "tracking_code"),
      .shipped_at = OptMicros(o, "shipped_at"),
      .delivered_at = OptMicros(o, "delivered_at")};
}

domain::OrderEvent EventFromJson(const json::object& o) {
  domain::OrderEvent event{
      .type = std::string(o.at("type").as_string()),
      .actor = domain::ParseActor(o.at("actor").as_string()).value_or(domain::Actor::kSystem),
      .at = OptMicros(o, "at").value_or(TimePoint{})};
  if (!o.at("item_id").is_null()) event.item_id = o.at("item_id").to_number<std::int64_t>();
  return event;
}

domain::Refund RefundFromJson(const json::object& o) {
  return domain::Refund{.amount_cents = o.at("amount_cents").to_number<std::int64_t>(),
                        .currency = std::string(o.at("currency").as_string()),
                        .reason = std::string(o.at("reason").as_string()),
                        .status = std::string(o.at("status").as_string()),
                        .item_id = o.at("item_id").is_null()
                                       ? std::nullopt
                                       : std::optional(o.at("item_id").to_number<std::int64_t>()),
                        .created_at = OptMicros(o, "at").value_or(TimePoint{})};
}

// A json_agg column: an array, or NULL when there were no rows.
template <typename T, typename FromJson>
std::vector<T> Aggregated(const QueryResult& rows, int r, std::string_view column,
                          FromJson from_json) {
  std::vector<T> out;
  if (rows.IsNull(r, column)) return out;
  json::value parsed = json::parse(rows.Text(r, column));
  const json::array& array = parsed.as_array();
  out.reserve(array.size());
  for (const auto& element : array) out.push_back(from_json(element.as_object()));
  return out;
}

domain::Order OrderFromRow(const QueryResult& r, int row) {
  json::value address = json::parse(r.Text(row, "shipping_address"));
  return domain::Order{.id = domain::OrderId{r.Int(row, "id")},
                       .buyer_id = UserId{r.Int(row, "buyer_id")},
                       .buyer_username = r.String(row, "buyer_username"),
                       .buyer_display_name = r.String(row, "buyer_display_name"),
                       .stored_status = domain::ParseOrderStatus(r.Text(row, "status"))
                                            .value_or(domain::OrderStatus::kPendingPayment),
                       .past_expiry = r.Bool(row, "past_expiry"),
                       .currency = r.String(row, "currency"),
                       .total_cents = r.Int(row, "total_cents"),
                       .shipping_address = AddressFromJson(address.as_object()),
                       .payment_provider = r.OptString(row, "payment_provider"),
                       .payment_intent_id = r.OptString(row, "payment_intent_id"),
                       .paid_at = r.OptTime(row, "paid_at"),
                       .expires_at = r.Time(row, "expires_at"),
                       .created_at = r.Time(row, "created_at"),
                       .updated_at = r.Time(row, "updated_at"),
                       .items = Aggregated<domain::OrderItem>(r, row, "items", ItemFromJson),
                       .refunds = Aggregated<domain::Refund>(r, row, "refunds", RefundFromJson),
                       .events = Aggregated<domain::OrderEvent>(r, row, "events", EventFromJson)};
}

std::string BigintArray(const std::vector<std::int64_t>& values) {
  std::string text = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += ',';
    text += std::to_string(values[i]);
  }
  return text + "}";
}

// Merged per listing and sorted by id: the order every transaction locks listings in.
std::vector<services::StockWant> ByListing(std::vector<services::StockWant> lines) {
  std::sort(lines.begin(), lines.end(),
            [](const auto& a, const auto& b) { return a.listing.value < b.listing.value; });
  std::vector<services::StockWant> merged;
  for (const auto& line : lines) {
    if (!merged.empty() && merged.back().listing == line.listing) {
      merged.back().quantity += line.quantity;
    } else {
      merged.push_back(line);
    }
  }
  return merged;
}

std::vector<domain::CheckoutLine> CheckoutLinesFromRows(const QueryResult& rows) {
  std::vector<domain::CheckoutLine> lines;
  lines.reserve(rows.size());
  for (int r = 0; r < rows.size(); ++r) {
    lines.push_back(
        domain::CheckoutLine{.listing_id = ListingId{rows.Int(r, "listing_id")},
                             .quantity = static_cast<int>(rows.Int(r, "quantity")),
                             .seller_id = UserId{rows.Int(r, "seller_id")},
                             .seller_username = rows.String(r, "seller_username"),
                             .seller_display_name = rows.String(r, "seller_display_name"),
                             .title = rows.String(r, "title"),
                             .unit_price_cents = rows.Int(r, "price_cents"),
                             .currency = rows.String(r, "currency"),
                             .active = rows.Bool(r, "active"),
                             .stock = static_cast<int>(rows.Int(r, "stock")),
                             .reserved = static_cast<int>(rows.Int(r, "reserved")),
                             .image_key = rows.OptString(r, "image_key")});
  }
  return lines;
}

}  // namespace

Task<services::CheckoutStart> PgOrdersRepository::StartCheckout(services::Transaction& tx,
                                                                UserId buyer, std::string_view key,
                                                                std::string_view request_hash) {
  // In this order, each statement after the one before it: the buyer's lock first, so that the
  // rest sees every checkout of theirs that committed meanwhile. The key is looked up whether or
  // not the claim inserted it (cheap, and it saves a round trip when it did not).
  std::vector<Call> calls;
  calls.push_back(Call{kLockBuyer, Params(buyer.value)});
  calls.push_back(Call{kClaimKey, Params(buyer.value, key, Bytea{request_hash})});
  calls.push_back(Call{kFindKey, Params(buyer.value, key, Bytea{request_hash})});
  calls.push_back(Call{kPendingOrders, Params(buyer.value)});
  calls.push_back(Call{kCartLinesToOrder, Params(buyer.value)});
  std::vector<QueryResult> results = co_await AsPg(tx).ExecuteAll(std::move(calls));
  const QueryResult& claimed = results[1];
  const QueryResult& found = results[2];

  services::CheckoutStart start;
  if (claimed.empty()) {
    if (found.empty() || !found.Bool(0, "same_request")) {
      start.claim.claim = services::KeyClaim::kMismatch;
    } else {
      start.claim.claim = services::KeyClaim::kReplay;
      if (auto order = found.OptInt(0, "order_id")) start.claim.order = domain::OrderId{*order};
    }
  }
  start.pending_orders = static_cast<int>(results[3].Int(0, "n"));
  start.lines = CheckoutLinesFromRows(results[4]);
  co_return start;
}

Task<std::vector<domain::CheckoutLine>> PgOrdersRepository::CartLines(UserId buyer) {
  QueryResult rows = co_await pool_.Execute(kCartLines, Params(buyer.value));
  co_return CheckoutLinesFromRows(rows);
}

Task<services::PlacedRows> PgOrdersRepository::InsertAndLockStock(
    services::Transaction& tx, UserId buyer, std::string_view key,
    const std::vector<domain::CheckoutLine>& lines, const domain::ShippingAddress& address,
    std::int64_t total_cents, TimePoint expires_at) {
  json::array items;
  for (const auto& line : lines) {
    json::value image = nullptr;
    if (line.image_key) image = *line.image_key;
    items.push_back(json::object{{"listing_id", line.listing_id.value},
                                 {"seller_id", line.seller_id.value},
                                 {"seller_username", line.seller_username},
                                 {"seller_display_name", line.seller_display_name},
                                 {"title", line.title},
                                 {"unit_price_cents", line.unit_price_cents},
                                 {"currency", line.currency},
                                 {"quantity", line.quantity},
                                 {"image_key", std::move(image)}});
  }
  std::string items_json = json::serialize(items);
  std::vector<std::int64_t> ids;
  for (const auto& line : lines) ids.push_back(line.listing_id.value);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const std::string listings = BigintArray(ids);

  std::vector<Call> calls;
  calls.push_back(Call{kInsertOrder, Params(buyer.value, lines.front().currency, total_cents,
                                            AddressJson(address), expires_at, items_json, key)});
  calls.push_back(Call{kLockListings, Params(listings)});
  calls.push_back(Call{kLockedStock, Params(listings)});
  std::vector<QueryResult> results = co_await AsPg(tx).ExecuteAll(std::move(calls));

  services::PlacedRows placed{.order = OrderFromRow(results[0], 0)};
  const QueryResult& rows = results[2];
  for (int r = 0; r < rows.size(); ++r) {
    placed.locked.push_back(
        domain::LockedStock{.listing = ListingId{rows.Int(r, "id")},
                            .seller_id = UserId{rows.Int(r, "seller_id")},
                            .unit_price_cents = rows.Int(r, "price_cents"),
                            .active = rows.Bool(r, "active"),
                            .stock = static_cast<int>(rows.Int(r, "stock")),
                            .reserved = static_cast<int>(rows.Int(r, "reserved"))});
  }
  co_return placed;
}

Task<std::optional<domain::Order>> PgOrdersRepository::Find(domain::OrderId id) {
  QueryResult rows = co_await pool_.Execute(kFind, Params(id.value));
  if (rows.empty()) co_return std::nullopt;
  co_return OrderFromRow(rows, 0);
}

Task<std::vector<services::StockWant>> PgOrdersRepository::CartWants(UserId buyer) {
  QueryResult rows = co_await pool_.Execute(kCartWants, Params(buyer.value));
  std::vector<services::StockWant> wants;
  for (int r = 0; r < rows.size(); ++r) {
    wants.push_back(services::StockWant{.listing = ListingId{rows.Int(r, "listing_id")},
                                        .quantity = static_cast<int>(rows.Int(r, "quantity"))});
  }
  co_return wants;
}

Task<std::vector<services::StockLevel>> PgOrdersRepository::StockLevels(
    const std::vector<ListingId>& listings) {
  std::vector<std::int64_t> ids;
  for (auto id : listings) ids.push_back(id.value);
  std::string array = BigintArray(ids);
  QueryResult rows = co_await pool_.Execute(kStockLevels, Params(array));
  std::vector<services::StockLevel> levels;
  for (int r = 0; r < rows.size(); ++r) {
    levels.push_back(services::StockLevel{
        .listing = ListingId{rows.Int(r, "id")},
        .available = static_cast<int>(std::max<std::int64_t>(0, rows.Int(r, "available")))});
  }
  co_return levels;
}

Task<std::optional<domain::OrderId>> PgOrdersRepository::KeyOrder(UserId buyer,
                                                                  std::string_view key) {
  QueryResult rows = co_await pool_.Execute(kKeyOrder, Params(buyer.value, key));
  if (rows.empty()) co_return std::nullopt;
  co_return domain::OrderId{rows.Int(0, "order_id")};
}

Task<std::optional<domain::Order>> PgOrdersRepository::Lock(services::Transaction& tx,
                                                            domain::OrderId id) {
  Transaction& pg = AsPg(tx);
  // One round trip; the read is a statement of its own, so it sees whatever the transactions the
  // lock waited for committed.
  std::vector<Call> calls;
  calls.push_back(Call{kLockOrder, Params(id.value)});
  calls.push_back(Call{kFind, Params(id.value)});
  std::vector<QueryResult> results = co_await pg.ExecuteAll(std::move(calls));
  if (results[0].empty() || results[1].empty()) co_return std::nullopt;
  co_return OrderFromRow(results[1], 0);
}

Task<std::vector<domain::Order>> PgOrdersRepository::LockExpired(services::Transaction& tx,
                                                                 int limit) {
  Transaction& pg = AsPg(tx);
  QueryResult locked = co_await pg.Execute(kLockExpired, Params(limit));
  std::vector<domain::Order> orders;
  if (locked.empty()) co_return orders;
  std::vector<std::int64_t> ids;
  for (int r = 0; r < locked.size(); ++r) ids.push_back(locked.Int(r, "id"));
  std::string array = BigintArray(ids);
  QueryResult rows = co_await pg.Execute(kFindMany, Params(array));
  for (int r = 0; r < rows.size(); ++r) orders.push_back(OrderFromRow(rows, r));
  co_return orders;
}

Task<bool> PgOrdersRepository::DetachCanceledIntent(domain::OrderId id,
                                                    std::string_view intent_id) {
  QueryResult rows = co_await pool_.Execute(kDetachCanceledIntent, Params(id.value, intent_id));
  co_return !rows.empty();
}

Task<std::optional<std::string>> PgOrdersRepository::AttachIntent(domain::OrderId id,
                                                                  std::string_view provider,
                                                                  std::string_view intent_id) {
  QueryResult rows = co_await pool_.Execute(kAttachIntent, Params(id.value, provider, intent_id));
  if (!rows.empty()) co_return rows.String(0, "payment_intent_id");
  // Nothing attached and nothing seen: the UPDATE may have waited for a concurrent attach and
  // then found the row taken, while the statement's own snapshot, older than that commit, still
  // shows no intent. A fresh statement sees it.
  QueryResult current = co_await pool_.Execute(kOrderIntent, Params(id.value));
  if (current.empty() || current.IsNull(0, "payment_intent_id")) co_return std::nullopt;
  co_return current.String(0, "payment_intent_id");
}

Task<void> PgOrdersRepository::ReturnStock(services::Transaction& tx,
                                           const std::vector<services::StockWant>& lines) {
  Transaction& pg = AsPg(tx);
  std::vector<services::StockWant> merged = ByListing(lines);
  for (const auto& line : merged) {
    co_await pg.Execute(kAddStock, Params(line.listing.value, line.quantity));
  }
}

Task<void> PgOrdersRepository::SetStatus(services::Transaction& tx, domain::OrderId id,
                                         domain::OrderStatus status) {
  co_await AsPg(tx).Execute(kSetStatus, Params(id.value, domain::OrderStatusName(status)));
}

Task<services::PaidCommit> PgOrdersRepository::CommitPaid(
    services::Transaction& tx, domain::OrderId id, std::string_view intent_id,
    const std::vector<services::StockWant>& lines, std::string_view provider,
    std::string_view event_id, std::string_view event_type) {
  std::vector<Call> calls;
  calls.push_back(Call{kMarkPaid, Params(id.value, intent_id)});
  calls.push_back(
      Call{kInsertPaymentEvent, Params(provider, event_id, event_type, id.value, "paid")});
  // A line that is short fails its UPDATE on listings_quantity_range (quantity >= 0), which
  // skips the rest and the COMMIT.
  for (const auto& line : ByListing(lines)) {
    calls.push_back(Call{kAddStock, Params(line.listing.value, -line.quantity)});
  }
  try {
    co_await AsPg(tx).ExecuteAllAndCommit(std::move(calls));
  } catch (const PgError& e) {
    if (e.IsUniqueViolation() && e.constraint() == "payment_events_pkey")
      co_return services::PaidCommit::kEventRecordedBefore;
    if (e.sqlstate() == "23514" && e.constraint() == "listings_quantity_range")
      co_return services::PaidCommit::kStockShort;
    throw;
  }
  co_return services::PaidCommit::kCommitted;
}

Task<void> PgOrdersRepository::CancelItems(services::Transaction& tx, domain::OrderId id) {
  co_await AsPg(tx).Execute(kCancelItems, Params(id.value));
}

Task<void> PgOrdersRepository::ShipItems(services::Transaction& tx, domain::OrderId id,
                                         const std::vector<std::int64_t>& items,
                                         std::string_view carrier, std::string_view tracking_code) {
  Transaction& pg = AsPg(tx);
  std::string array = BigintArray(items);
  co_await pg.Execute(kShipItems, Params(id.value, array, carrier, tracking_code));
  co_await pg.Execute(kTouchOrder, Params(id.value));
}

Task<void> PgOrdersRepository::DeliverItems(services::Transaction& tx, domain::OrderId id,
                                            const std::vector<std::int64_t>& items) {
  Transaction& pg = AsPg(tx);
  std::string array = BigintArray(items);
  co_await pg.Execute(kDeliverItems, Params(id.value, array));
  co_await pg.Execute(kTouchOrder, Params(id.value));
}

Task<void> PgOrdersRepository::AddEvent(services::Transaction& tx, domain::OrderId id,
                                        std::optional<std::int64_t> item, std::string_view type,
                                        domain::Actor actor, std::optional<UserId> actor_id,
                                        std::string_view detail) {
  std::optional<std::int64_t> actor_value;
  if (actor_id) actor_value = actor_id->value;
  co_await AsPg(tx).Execute(
      kAddEvent, Params(id.value, item, type, domain::ActorName(actor), actor_value, detail));
}

Task<bool> PgOrdersRepository::RecordPaymentEvent(services::Transaction& tx,
                                                  std::string_view provider,
                                                  std::string_view event_id, std::string_view type,
                                                  std::optional<domain::OrderId> order,
                                                  std::string_view outcome) {
  std::optional<std::int64_t> order_value;
  if (order) order_value = order->value;
  QueryResult rows = co_await AsPg(tx).Execute(
      kRecordPaymentEvent, Params(provider, event_id, type, order_value, outcome));
  co_return !rows.empty();
}

Task<bool> PgOrdersRepository::AddRefund(services::Transaction& tx, const domain::Order& order,
                                         std::string_view reason) {
  QueryResult added = co_await AsPg(tx).Execute(
      kAddRefund, Params(order.id.value, order.payment_provider, order.payment_intent_id,
                         order.total_cents, order.currency, reason));
  co_return added.Int(0, "added") > 0;
}

Task<int> PgOrdersRepository::RefundItems(services::Transaction& tx, const domain::Order& order,
                                          const std::vector<std::int64_t>& items,
                                          std::string_view reason) {
  Transaction& pg = AsPg(tx);
  std::string array = BigintArray(items);
  QueryResult refunded = co_await pg.Execute(
      kRefundItems,
      Params(order.id.value, array, order.payment_provider, order.payment_intent_id, reason));
  co_await pg.Execute(kTouchOrder, Params(order.id.value));
  co_return static_cast<int>(refunded.Int(0, "refunded"));
}

Task<std::vector<services::OrdersRepository::RefundTask>> PgOrdersRepository::LeaseRefunds(
    std::optional<domain::OrderId> order, int limit) {
  std::optional<std::int64_t> order_value;
  if (order) order_value = order->value;
  QueryResult rows = co_await pool_.Execute(kLeaseRefunds, Params(order_value, limit));
  std::vector<RefundTask> tasks;
  for (int r = 0; r < rows.size(); ++r) {
    tasks.push_back(RefundTask{.id = rows.Int(r, "id"),
                               .order = domain::OrderId{rows.Int(r, "order_id")},
                               .provider = rows.String(r, "provider"),
                               .intent_id = rows.String(r, "payment_intent_id"),
                               .amount_cents = rows.Int(r, "amount_cents"),
                               .reason = rows.String(r, "reason")});
  }
  co_return tasks;
}

Task<void> PgOrdersRepository::RefundSucceeded(std::int64_t refund,
                                               std::string_view provider_refund_id) {
  Transaction tx = co_await pool_.BeginTransaction();
  std::vector<Call> calls;
  calls.push_back(Call{kLockRefundOrder, Params(refund)});
  calls.push_back(Call{kRefundSucceeded, Params(refund, provider_refund_id)});
  co_await tx.ExecuteAllAndCommit(std::move(calls));
}

Task<void> PgOrdersRepository::RefundFailed(std::int64_t refund, std::string_view error) {
  co_await pool_.Execute(kRefundFailed, Params(refund, error));
}

Task<std::vector<services::OrdersRepository::IntentCheck>> PgOrdersRepository::IntentsToCheck(
    std::string_view provider, std::chrono::seconds age, int limit) {
  QueryResult rows = co_await pool_.Execute(
      kIntentsToCheck, Params(provider, static_cast<std::int64_t>(age.count()), limit));
  std::vector<IntentCheck> checks;
  for (int r = 0; r < rows.size(); ++r) {
    checks.push_back(IntentCheck{.order = domain::OrderId{rows.Int(r, "id")},
                                 .intent_id = rows.String(r, "payment_intent_id"),
                                 .closed = rows.Bool(r, "closed")});
  }
  co_return checks;
}

Task<std::optional<domain::OrderId>> PgOrdersRepository::OrderOfIntent(std::string_view provider,
                                                                       std::string_view intent_id) {
  QueryResult rows = co_await pool_.Execute(kOrderOfIntent, Params(provider, intent_id));
  if (rows.empty()) co_return std::nullopt;
  co_return domain::OrderId{rows.Int(0, "id")};
}

Task<void> PgOrdersRepository::IntentSettled(domain::OrderId id) {
  co_await pool_.Execute(kIntentSettled, Params(id.value));
}

Task<std::vector<domain::Order>> PgOrdersRepository::List(const ListQuery& query) {
  std::optional<std::string_view> status;
  if (query.status) status = domain::OrderStatusName(*query.status);
  const Statement& statement = query.as_seller ? kListSeller : kListBuyer;
  QueryResult ids = co_await pool_.Execute(
      statement, Params(query.viewer.value, status, query.before, query.limit));
  std::vector<domain::Order> orders;
  if (ids.empty()) co_return orders;
  std::vector<std::int64_t> values;
  for (int r = 0; r < ids.size(); ++r) values.push_back(ids.Int(r, "id"));
  std::string array = BigintArray(values);
  QueryResult rows = co_await pool_.Execute(kFindMany, Params(array));
  for (int r = rows.size() - 1; r >= 0; --r) orders.push_back(OrderFromRow(rows, r));
  co_return orders;
}

}  // namespace market::pg
