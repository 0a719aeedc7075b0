#include "storage/pg/orders_repository.hpp"

#include <boost/json.hpp>

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
    "orders.lock_cart_listings",
    "SELECT l.id FROM listings l WHERE l.id IN (SELECT listing_id FROM cart_items WHERE user_id "
    "= $1) ORDER BY l.id FOR UPDATE"};

// A separate statement from the locking one: it starts after the locks were granted, so its
// snapshot sees every reservation committed by the checkouts it waited for.
constexpr Statement kCartLines{
    "orders.cart_lines",
    "SELECT c.listing_id, c.quantity, l.seller_id, u.username::text AS seller_username, "
    "u.display_name AS seller_display_name, l.title, l.price_cents, l.currency, "
    "l.status = 'active' AS active, l.quantity AS stock, "
    MARKET_RESERVED_SQL("l.id") " AS reserved, "
    "(SELECT i.small_key FROM listing_images i WHERE i.listing_id = l.id AND i.is_main) AS "
    "image_key "
    "FROM cart_items c JOIN listings l ON l.id = c.listing_id JOIN users u ON u.id = l.seller_id "
    "WHERE c.user_id = $1 ORDER BY l.id"};

constexpr Statement kInsertOrder{
    "orders.insert",
    "INSERT INTO orders (buyer_id, currency, total_cents, shipping_address, expires_at) "
    "VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING id"};

constexpr Statement kInsertItem{
    "orders.insert_item",
    "INSERT INTO order_items (order_id, listing_id, seller_id, seller_username, "
    "seller_display_name, title, unit_price_cents, currency, quantity, image_key) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"};

constexpr Statement kCompleteKey{
    "orders.complete_key",
    "UPDATE idempotency_keys SET order_id = $3 WHERE user_id = $1 AND key = $2"};

constexpr Statement kRemoveFromCart{
    "orders.remove_from_cart", "DELETE FROM cart_items WHERE user_id = $1 AND listing_id = $2"};

constexpr Statement kFind{
    "orders.find",
    "SELECT o.id, o.buyer_id, o.status, o.currency, o.total_cents, o.shipping_address::text AS "
    "shipping_address, o.expires_at, o.created_at, "
    "(SELECT json_agg(json_build_object('id', i.id, 'listing_id', i.listing_id, 'seller_id', "
    "i.seller_id, 'seller_username', i.seller_username, 'seller_display_name', "
    "i.seller_display_name, 'title', i.title, 'unit_price_cents', i.unit_price_cents, "
    "'currency', i.currency, 'quantity', i.quantity, 'image_key', i.image_key, 'status', "
    "i.status) ORDER BY i.id) FROM order_items i WHERE i.order_id = o.id)::text AS items "
    "FROM orders o WHERE o.id = $1"};

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

domain::OrderItem ItemFromJson(const json::object& o) {
  domain::OrderItem item{
      .id = o.at("id").to_number<std::int64_t>(),
      .listing_id = ListingId{o.at("listing_id").to_number<std::int64_t>()},
      .seller_id = UserId{o.at("seller_id").to_number<std::int64_t>()},
      .seller_username = std::string(o.at("seller_username").as_string()),
      .seller_display_name = std::string(o.at("seller_display_name").as_string()),
      .title = std::string(o.at("title").as_string()),
      .unit_price_cents = o.at("unit_price_cents").to_number<std::int64_t>(),
      .currency = std::string(o.at("currency").as_string()),
      .quantity = o.at("quantity").to_number<int>(),
      .status = std::string(o.at("status").as_string())};
  if (o.at("image_key").is_string()) item.image_key = std::string(o.at("image_key").as_string());
  return item;
}

}  // namespace

Task<void> PgOrdersRepository::LockBuyer(services::Transaction& tx, UserId buyer) {
  co_await AsPg(tx).Execute(kLockBuyer, Params(buyer.value));
}

Task<services::ClaimOutcome> PgOrdersRepository::ClaimKey(services::Transaction& tx, UserId buyer,
                                                          std::string_view key,
                                                          std::string_view request_hash) {
  Transaction& pg = AsPg(tx);
  QueryResult claimed =
      co_await pg.Execute(kClaimKey, Params(buyer.value, key, Bytea{request_hash}));
  if (!claimed.empty()) co_return services::ClaimOutcome{};
  QueryResult found = co_await pg.Execute(kFindKey, Params(buyer.value, key, Bytea{request_hash}));
  if (found.empty() || !found.Bool(0, "same_request"))
    co_return services::ClaimOutcome{.claim = services::KeyClaim::kMismatch};
  services::ClaimOutcome outcome{.claim = services::KeyClaim::kReplay};
  if (auto order = found.OptInt(0, "order_id")) outcome.order = domain::OrderId{*order};
  co_return outcome;
}

Task<int> PgOrdersRepository::PendingOrders(services::Transaction& tx, UserId buyer) {
  QueryResult result = co_await AsPg(tx).Execute(kPendingOrders, Params(buyer.value));
  co_return static_cast<int>(result.Int(0, "n"));
}

Task<std::vector<domain::CheckoutLine>> PgOrdersRepository::LockCart(services::Transaction& tx,
                                                                     UserId buyer) {
  Transaction& pg = AsPg(tx);
  co_await pg.Execute(kLockListings, Params(buyer.value));
  QueryResult rows = co_await pg.Execute(kCartLines, Params(buyer.value));
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
  co_return lines;
}

Task<domain::OrderId> PgOrdersRepository::Insert(services::Transaction& tx, UserId buyer,
                                                 const std::vector<domain::CheckoutLine>& lines,
                                                 const domain::ShippingAddress& address,
                                                 std::int64_t total_cents, TimePoint expires_at) {
  Transaction& pg = AsPg(tx);
  QueryResult inserted = co_await pg.Execute(
      kInsertOrder,
      Params(buyer.value, lines.front().currency, total_cents, AddressJson(address), expires_at));
  domain::OrderId id{inserted.Int(0, "id")};
  for (const auto& line : lines) {
    co_await pg.Execute(
        kInsertItem,
        Params(id.value, line.listing_id.value, line.seller_id.value, line.seller_username,
               line.seller_display_name, line.title, line.unit_price_cents, line.currency,
               static_cast<std::int64_t>(line.quantity), line.image_key));
  }
  co_return id;
}

Task<void> PgOrdersRepository::CompleteKey(services::Transaction& tx, UserId buyer,
                                           std::string_view key, domain::OrderId order) {
  co_await AsPg(tx).Execute(kCompleteKey, Params(buyer.value, key, order.value));
}

Task<void> PgOrdersRepository::RemoveFromCart(services::Transaction& tx, UserId buyer,
                                              const std::vector<domain::CheckoutLine>& lines) {
  for (const auto& line : lines) {
    co_await AsPg(tx).Execute(kRemoveFromCart, Params(buyer.value, line.listing_id.value));
  }
}

Task<std::optional<domain::Order>> PgOrdersRepository::Find(domain::OrderId id) {
  QueryResult r = co_await pool_.Execute(kFind, Params(id.value));
  if (r.empty()) co_return std::nullopt;
  json::value address = json::parse(r.Text(0, "shipping_address"));
  domain::Order order{.id = id,
                      .buyer_id = UserId{r.Int(0, "buyer_id")},
                      .status = domain::ParseOrderStatus(r.Text(0, "status"))
                                    .value_or(domain::OrderStatus::kPendingPayment),
                      .currency = r.String(0, "currency"),
                      .total_cents = r.Int(0, "total_cents"),
                      .shipping_address = AddressFromJson(address.as_object()),
                      .expires_at = r.Time(0, "expires_at"),
                      .created_at = r.Time(0, "created_at")};
  json::value items = json::parse(r.Text(0, "items"));
  for (const auto& item : items.as_array()) order.items.push_back(ItemFromJson(item.as_object()));
  co_return order;
}

}  // namespace market::pg
