#include "storage/pg/carts_repository.hpp"

#include "storage/pg/listings_repository.hpp"
#include "storage/pg/params.hpp"
#include "storage/pg/stock_sql.hpp"

namespace market::pg {
namespace {

constexpr Statement kLoad{
    "carts.load",
    "SELECT c.listing_id, c.quantity, c.price_when_added_cents, c.added_at, l.title, "
    "l.price_cents, l.currency, l.quantity - " MARKET_RESERVED_SQL("l.id") " AS available, "
    "l.status = 'active' AS for_sale, "
    "u.username::text AS seller_username, u.display_name AS seller_display_name, "
    "i.id AS image_id, i.position AS image_position, i.format AS image_format, "
    "i.width AS image_width, i.height AS image_height, i.original_key AS image_original_key, "
    "i.small_key AS image_small_key, i.large_key AS image_large_key "
    "FROM cart_items c JOIN listings l ON l.id = c.listing_id "
    "JOIN users u ON u.id = l.seller_id "
    "LEFT JOIN listing_images i ON i.listing_id = l.id AND i.is_main "
    // Milliseconds, as added_at is shown: lines added within one are ordered by listing id.
    "WHERE c.user_id = $1 ORDER BY date_trunc('milliseconds', c.added_at), c.listing_id"};

// Taken on the buyer's own row: concurrent changes to one cart queue up, so the line count that
// is checked is the one that is written.
constexpr Statement kLockCart{"carts.lock", "SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE"};

constexpr Statement kOtherLines{
    "carts.other_lines",
    "SELECT count(*) AS lines FROM cart_items WHERE user_id = $1 AND listing_id <> $2"};

constexpr Statement kUpsert{
    "carts.upsert",
    "INSERT INTO cart_items (user_id, listing_id, quantity, price_when_added_cents) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, listing_id) DO UPDATE SET "
    "quantity = EXCLUDED.quantity, price_when_added_cents = EXCLUDED.price_when_added_cents, "
    "updated_at = now()"};

constexpr Statement kRemove{"carts.remove",
                            "DELETE FROM cart_items WHERE user_id = $1 AND listing_id = $2"};

constexpr Statement kClear{"carts.clear", "DELETE FROM cart_items WHERE user_id = $1"};

domain::CartLine LineFromRow(const QueryResult& r, int row) {
  domain::CartLine line{.listing_id = ListingId{r.Int(row, "listing_id")},
                        .title = r.String(row, "title"),
                        .seller_username = r.String(row, "seller_username"),
                        .seller_display_name = r.String(row, "seller_display_name"),
                        .unit_price_cents = r.Int(row, "price_cents"),
                        .price_when_added_cents = r.Int(row, "price_when_added_cents"),
                        .currency = r.String(row, "currency"),
                        .quantity = static_cast<int>(r.Int(row, "quantity")),
                        .available = static_cast<int>(r.Int(row, "available")),
                        .for_sale = r.Bool(row, "for_sale"),
                        .added_at = r.Time(row, "added_at")};
  line.main_image = MainImageFromRow(r, row);
  return line;
}

}  // namespace

Task<domain::Cart> PgCartsRepository::Load(UserId user) {
  QueryResult rows = co_await pool_.Execute(kLoad, Params(user.value));
  domain::Cart cart;
  cart.lines.reserve(rows.size());
  for (int row = 0; row < rows.size(); ++row) cart.lines.push_back(LineFromRow(rows, row));
  co_return cart;
}

Task<Result<void>> PgCartsRepository::Put(UserId user, ListingId listing, int quantity,
                                          std::int64_t unit_price_cents, int max_lines) {
  Transaction tx = co_await pool_.BeginTransaction();
  // Two round trips: the cart's lock with the count of its other lines (a statement of its own,
  // after the lock), then the line with the commit.
  std::vector<Call> check;
  check.push_back(Call{kLockCart, Params(user.value)});
  check.push_back(Call{kOtherLines, Params(user.value, listing.value)});
  std::vector<QueryResult> checked = co_await tx.ExecuteAll(std::move(check));
  if (checked[1].Int(0, "lines") >= max_lines)
    co_return MakeError(ErrorCode::kConflict, "A cart holds at most 50 different listings.");
  std::vector<Call> put;
  put.push_back(Call{kUpsert, Params(user.value, listing.value, static_cast<std::int64_t>(quantity),
                                     unit_price_cents)});
  co_await tx.ExecuteAllAndCommit(std::move(put));
  co_return Ok();
}

Task<void> PgCartsRepository::Remove(UserId user, ListingId listing) {
  co_await pool_.Execute(kRemove, Params(user.value, listing.value));
}

Task<void> PgCartsRepository::Clear(UserId user) {
  co_await pool_.Execute(kClear, Params(user.value));
}

}  // namespace market::pg
