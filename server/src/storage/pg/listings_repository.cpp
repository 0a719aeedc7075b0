#include "storage/pg/listings_repository.hpp"

#include <boost/json.hpp>
#include <map>
#include <mutex>

#include "storage/pg/params.hpp"
#include "storage/pg/stock_sql.hpp"

namespace market::pg {
namespace {

namespace json = boost::json;

#define RESERVED_EXPR MARKET_RESERVED_SQL("l.id")

#define LISTING_COLUMNS                                                                         \
  "l.id, l.seller_id, u.username::text AS seller_username, u.display_name AS "                  \
  "seller_display_name, u.created_at AS seller_created_at, l.title, l.description, "            \
  "l.price_cents, l.currency, l.quantity, " RESERVED_EXPR                                       \
  " AS reserved, l.category, l.condition, l.status, l.version, l.created_at, l.updated_at, "    \
  "(SELECT coalesce(json_agg(json_build_object('id', i.id, 'position', i.position, 'is_main', " \
  "i.is_main, 'format', i.format, 'width', i.width, 'height', i.height, 'original_key', "       \
  "i.original_key, 'small_key', i.small_key, 'large_key', i.large_key) ORDER BY i.position), "  \
  "'[]') FROM listing_images i WHERE i.listing_id = l.id)::text AS images"

constexpr Statement kFind{"listings.find", "SELECT " LISTING_COLUMNS
                                           " FROM listings l JOIN users u ON u.id = l.seller_id "
                                           "WHERE l.id = $1 AND l.status <> 'deleted'"};

constexpr Statement kInsert{
    "listings.insert",
    "INSERT INTO listings (seller_id, title, description, price_cents, currency, quantity, "
    "category, condition) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"};

constexpr Statement kUpdate{
    "listings.update",
    "UPDATE listings SET title = COALESCE($2, title), description = COALESCE($3, description), "
    "price_cents = COALESCE($4, price_cents), currency = COALESCE($5, currency), "
    "quantity = COALESCE($6, quantity), category = COALESCE($7, category), "
    "condition = COALESCE($8, condition), version = version + 1, updated_at = now() "
    "WHERE id = $1 AND status <> 'deleted' AND ($9::integer IS NULL OR version = $9::integer) "
    "RETURNING id"};

constexpr Statement kSetStatus{
    "listings.set_status",
    "UPDATE listings SET status = $2, version = version + 1, updated_at = now(), "
    "status_changed_at = now() WHERE id = $1 AND status <> 'deleted' RETURNING id"};

constexpr Statement kBumpVersion{"listings.bump_version",
                                 "UPDATE listings SET version = version + 1, updated_at = now() "
                                 "WHERE id = $1 AND status <> 'deleted' RETURNING id"};

// The row lock serialises image changes of one listing. The count is a separate statement on
// purpose: under READ COMMITTED a statement that waited for the lock still sees the snapshot it
// started with, so a count inside the locking statement would miss a rival's committed insert.
constexpr Statement kLockForImages{
    "listings.lock_for_images",
    "SELECT id FROM listings WHERE id = $1 AND status <> 'deleted' FOR NO KEY UPDATE"};

constexpr Statement kCountImages{
    "listings.count_images", "SELECT count(*) AS images FROM listing_images WHERE listing_id = $1"};

constexpr Statement kInsertImage{
    "listings.insert_image",
    "INSERT INTO listing_images (listing_id, position, is_main, original_key, small_key, "
    "large_key, format, width, height, bytes) "
    "SELECT $1, coalesce(max(position), 0) + 1, count(*) = 0, $2, $3, $4, $5, $6, $7, $8 "
    "FROM listing_images WHERE listing_id = $1 "
    "RETURNING id, position, is_main, format, width, height, original_key, small_key, large_key"};

constexpr Statement kClearMain{
    "listings.clear_main",
    "UPDATE listing_images SET is_main = false WHERE listing_id = $1 AND is_main AND id <> $2"};

constexpr Statement kSetMain{
    "listings.set_main",
    "UPDATE listing_images SET is_main = true WHERE listing_id = $1 AND id = $2 RETURNING id"};

constexpr Statement kDeleteImage{
    "listings.delete_image",
    "DELETE FROM listing_images WHERE listing_id = $1 AND id = $2 RETURNING is_main"};

constexpr Statement kPromoteFirst{
    "listings.promote_first_image",
    "UPDATE listing_images SET is_main = true WHERE id = (SELECT id FROM listing_images "
    "WHERE listing_id = $1 ORDER BY position, id LIMIT 1)"};

constexpr Statement kImageIds{"listings.image_ids",
                              "SELECT id FROM listing_images WHERE listing_id = $1 ORDER BY id"};

constexpr Statement kSetPosition{
    "listings.set_position",
    "UPDATE listing_images SET position = $3 WHERE listing_id = $1 AND id = $2"};

domain::ListingImage ImageFromJson(const json::object& o) {
  auto text = [&o](const char* key) { return std::string(o.at(key).as_string()); };
  return domain::ListingImage{.id = ImageId{o.at("id").to_number<std::int64_t>()},
                              .position = o.at("position").to_number<int>(),
                              .is_main = o.at("is_main").as_bool(),
                              .format = text("format"),
                              .width = o.at("width").to_number<int>(),
                              .height = o.at("height").to_number<int>(),
                              .original_key = text("original_key"),
                              .small_key = text("small_key"),
                              .large_key = text("large_key")};
}

domain::Listing ListingFromRow(const QueryResult& r, int row) {
  domain::Listing listing{
      .id = ListingId{r.Int(row, "id")},
      .seller = {.id = UserId{r.Int(row, "seller_id")},
                 .username = r.String(row, "seller_username"),
                 .display_name = r.String(row, "seller_display_name"),
                 .created_at = r.Time(row, "seller_created_at")},
      .title = r.String(row, "title"),
      .description = r.String(row, "description"),
      .price_cents = r.Int(row, "price_cents"),
      .currency = r.String(row, "currency"),
      .quantity = static_cast<int>(r.Int(row, "quantity")),
      .reserved = static_cast<int>(r.Int(row, "reserved")),
      .category = r.String(row, "category"),
      .condition =
          domain::ParseCondition(r.Text(row, "condition")).value_or(domain::Condition::kGood),
      .status =
          domain::ParseStatus(r.Text(row, "status")).value_or(domain::ListingStatus::kInactive),
      .version = static_cast<int>(r.Int(row, "version")),
      .created_at = r.Time(row, "created_at"),
      .updated_at = r.Time(row, "updated_at")};
  // Named: a range-for over parse(...).as_array() would iterate a destroyed temporary.
  json::value images = json::parse(r.Text(row, "images"));
  for (const auto& image : images.as_array())
    listing.images.push_back(ImageFromJson(image.as_object()));
  return listing;
}

domain::ListingImage ImageFromRow(const QueryResult& r, int row) {
  return domain::ListingImage{.id = ImageId{r.Int(row, "id")},
                              .position = static_cast<int>(r.Int(row, "position")),
                              .is_main = r.Bool(row, "is_main"),
                              .format = r.String(row, "format"),
                              .width = static_cast<int>(r.Int(row, "width")),
                              .height = static_cast<int>(r.Int(row, "height")),
                              .original_key = r.String(row, "original_key"),
                              .small_key = r.String(row, "small_key"),
                              .large_key = r.String(row, "large_key")};
}

domain::ListingSummary SummaryFromRow(const QueryResult& r, int row) {
  domain::ListingSummary summary{
      .id = ListingId{r.Int(row, "id")},
      .title = r.String(row, "title"),
      .price_cents = r.Int(row, "price_cents"),
      .currency = r.String(row, "currency"),
      .available = static_cast<int>(r.Int(row, "available")),
      .category = r.String(row, "category"),
      .condition =
          domain::ParseCondition(r.Text(row, "condition")).value_or(domain::Condition::kGood),
      .seller_username = r.String(row, "seller_username"),
      .seller_display_name = r.String(row, "seller_display_name"),
      .created_at = r.Time(row, "created_at"),
      .rank = std::stof(r.String(row, "rank")),
      .status =
          domain::ParseStatus(r.Text(row, "status")).value_or(domain::ListingStatus::kInactive),
      .quantity = static_cast<int>(r.Int(row, "stock"))};
  summary.main_image = MainImageFromRow(r, row);
  return summary;
}

// The browse statement for one combination of filters, sort and cursor. Each combination gets
// its own prepared statement with only the predicates it needs, so every one is planned for its
// index (a catch-all "$1 IS NULL OR …" statement would get one generic plan for all).
struct BrowseSql {
  std::string name;
  std::string sql;
};

const BrowseSql& BrowseStatement(const domain::BrowseQuery& q) {
  // Key: sort, one bit per optional predicate, the number of words matched loosely, the page
  // size and the statuses shown.
  bool fuzzy = q.q && q.fuzzy;
  std::size_t fuzzy_words = fuzzy ? domain::FuzzyWords(*q.q).size() : 0;
  // The page size is part of the text, not a parameter: with LIMIT $n a generic plan assumes a
  // tenth of the table and sorts it in parallel (measured: 62 ms and 15 req/s for the first
  // page instead of a 0.2 ms index scan).
  unsigned key = static_cast<unsigned>(q.sort) | static_cast<unsigned>(fuzzy) << 12 |
                 static_cast<unsigned>(fuzzy_words) << 13 | static_cast<unsigned>(q.limit) << 16 |
                 static_cast<unsigned>(q.status) << 24;
  unsigned bit = 4;
  for (bool present : {q.q.has_value(), q.seller.has_value(), q.category.has_value(),
                       q.condition.has_value(), q.min_price.has_value(), q.max_price.has_value(),
                       q.in_stock, q.after.has_value(), q.seller_id.has_value()}) {
    if (present) key |= bit;
    bit <<= 1;
  }
  static std::mutex mutex;
  static std::map<unsigned, BrowseSql> cache;  // node-based: entries never move
  std::lock_guard lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) return it->second;

  int n = 0;
  auto next = [&n] { return "$" + std::to_string(++n); };
  std::string where = q.status == domain::StatusFilter::kActive     ? "l.status = 'active'"
                      : q.status == domain::StatusFilter::kInactive ? "l.status = 'inactive'"
                                                                    : "l.status <> 'deleted'";
  where += " AND u.deleted_at IS NULL";
  std::string rank = "0::real";
  if (q.q) {
    // Full text, or every word of the search close to some word of the title (a typo): AND per
    // word, so that "vintage lamp" does not fall back to every vintage thing.
    std::string p = next();
    std::string loose;
    for (std::size_t i = 0; i < fuzzy_words; ++i)
      loose += (i == 0 ? "" : " AND ") + next() + " <% l.title";
    where += " AND (l.search @@ websearch_to_tsquery('english', " + p + ")" +
             (loose.empty() ? "" : " OR (" + loose + ")") + ")";
    // Loose matches have no full-text rank: similarity orders them.
    rank = "(ts_rank(l.search, websearch_to_tsquery('english', " + p + "))" +
           (fuzzy ? " + word_similarity(" + p + ", l.title)" : "") + ")::real";
  }
  if (q.seller) where += " AND u.username = " + next();
  if (q.seller_id) where += " AND l.seller_id = " + next();
  if (q.category) where += " AND l.category = " + next();
  if (q.condition) where += " AND l.condition = " + next();
  if (q.min_price) where += " AND l.price_cents >= " + next();
  if (q.max_price) where += " AND l.price_cents <= " + next();
  if (q.in_stock) where += " AND l.quantity - " RESERVED_EXPR " > 0";
  std::string order;
  std::string page_order;  // the same order over the outer query's columns
  switch (q.sort) {
    case domain::ListingSort::kNewest:
      if (q.after) where += " AND l.id < " + next();
      order = "l.id DESC";
      page_order = "page.id DESC";
      break;
    case domain::ListingSort::kPriceAsc:
      if (q.after) {
        std::string price = next(), id = next();
        where += " AND (l.price_cents, l.id) > (" + price + "::bigint, " + id + "::bigint)";
      }
      order = "l.price_cents, l.id";
      page_order = "page.price_cents, page.id";
      break;
    case domain::ListingSort::kPriceDesc:
      if (q.after) {
        std::string price = next(), id = next();
        where += " AND (l.price_cents, l.id) < (" + price + "::bigint, " + id + "::bigint)";
      }
      order = "l.price_cents DESC, l.id DESC";
      page_order = "page.price_cents DESC, page.id DESC";
      break;
    case domain::ListingSort::kRelevance:
      if (q.after) {
        std::string r = next(), id = next();
        where += " AND (" + rank + ", l.id) < (" + r + "::real, " + id + "::bigint)";
      }
      order = "rank DESC, l.id DESC";
      page_order = "page.rank DESC, page.id DESC";
      break;
  }
  // One more than the page: whether a next page exists costs no extra query.
  std::string limit = std::to_string(q.limit + 1);
  // The reserved stock is summed in an outer query over the page only: inside, a plan that
  // sorts would compute it for every matching row (measured: 200 instead of 8,000 req/s).
  std::string sql =
      "SELECT page.*, page.stock - " MARKET_RESERVED_SQL(
          "page.id") " AS available FROM (SELECT l.id, l.title, "
      "l.price_cents, l.currency, l.quantity AS stock, l.category, l.condition, l.status, "
      "l.created_at, "
      "u.username::text AS seller_username, u.display_name AS seller_display_name, i.id AS "
      "image_id, i.position AS image_position, i.format AS image_format, i.width AS "
      "image_width, i.height AS image_height, i.original_key AS image_original_key, "
      "i.small_key AS image_small_key, i.large_key AS image_large_key, " +
      rank +
      " AS rank FROM listings l JOIN users u ON u.id = l.seller_id LEFT JOIN listing_images i "
      "ON i.listing_id = l.id AND i.is_main WHERE " +
      where + " ORDER BY " + order + " LIMIT " + limit + ") page ORDER BY " + page_order;
  auto [it, inserted] =
      cache.emplace(key, BrowseSql{"listings.browse." + std::to_string(key), std::move(sql)});
  return it->second;
}

std::vector<Param> BrowseParams(const domain::BrowseQuery& q) {
  std::vector<Param> params;
  if (q.q) {
    params.push_back(ToParam(*q.q));
    if (q.fuzzy) {
      for (const auto& word : domain::FuzzyWords(*q.q)) params.push_back(ToParam(word));
    }
  }
  if (q.seller) params.push_back(ToParam(*q.seller));
  if (q.seller_id) params.push_back(ToParam(q.seller_id->value));
  if (q.category) params.push_back(ToParam(*q.category));
  if (q.condition) params.push_back(ToParam(domain::ConditionName(*q.condition)));
  if (q.min_price) params.push_back(ToParam(*q.min_price));
  if (q.max_price) params.push_back(ToParam(*q.max_price));
  if (q.after) {
    switch (q.sort) {
      case domain::ListingSort::kNewest:
        break;
      case domain::ListingSort::kPriceAsc:
      case domain::ListingSort::kPriceDesc:
        params.push_back(ToParam(q.after->price_cents));
        break;
      case domain::ListingSort::kRelevance: {
        char rank[32];
        std::snprintf(rank, sizeof rank, "%.9g", static_cast<double>(q.after->rank));
        params.push_back(ToParam(std::string_view(rank)));
        break;
      }
    }
    params.push_back(ToParam(q.after->id));
  }
  return params;
}

#undef LISTING_COLUMNS
#undef RESERVED_EXPR

}  // namespace

std::optional<domain::ListingImage> MainImageFromRow(const QueryResult& r, int row) {
  if (r.IsNull(row, "image_id")) return std::nullopt;
  return domain::ListingImage{.id = ImageId{r.Int(row, "image_id")},
                              .position = static_cast<int>(r.Int(row, "image_position")),
                              .is_main = true,
                              .format = r.String(row, "image_format"),
                              .width = static_cast<int>(r.Int(row, "image_width")),
                              .height = static_cast<int>(r.Int(row, "image_height")),
                              .original_key = r.String(row, "image_original_key"),
                              .small_key = r.String(row, "image_small_key"),
                              .large_key = r.String(row, "image_large_key")};
}

Task<domain::Listing> PgListingsRepository::Insert(UserId seller, const domain::ListingDraft& d) {
  QueryResult inserted =
      co_await pool_.Execute(kInsert, Params(seller.value, d.title, d.description, d.price_cents,
                                             d.currency, d.quantity, d.category, d.condition));
  ListingId id{inserted.Int(0, "id")};
  auto listing = co_await Find(id);
  if (!listing) throw std::logic_error("listing vanished right after insert");
  co_return std::move(*listing);
}

Task<std::optional<domain::Listing>> PgListingsRepository::Find(ListingId id) {
  QueryResult result = co_await pool_.Execute(kFind, Params(id.value));
  if (result.empty()) co_return std::nullopt;
  co_return ListingFromRow(result, 0);
}

Task<Result<domain::Listing>> PgListingsRepository::Update(ListingId id,
                                                           const domain::ListingPatch& patch,
                                                           std::optional<int> expected_version) {
  std::optional<std::int64_t> version;
  if (expected_version) version = *expected_version;
  QueryResult updated = co_await pool_.Execute(
      kUpdate, Params(id.value, patch.title, patch.description, patch.price_cents, patch.currency,
                      patch.quantity, patch.category, patch.condition, version));
  auto listing = co_await Find(id);
  if (!listing) co_return MakeError(ErrorCode::kNotFound, "No such listing.");
  if (updated.empty())
    co_return MakeError(ErrorCode::kPreconditionFailed,
                        "The listing changed since you read it; reload and try again.");
  co_return std::move(*listing);
}

Task<Result<domain::Listing>> PgListingsRepository::SetStatus(ListingId id,
                                                              domain::ListingStatus status) {
  QueryResult updated =
      co_await pool_.Execute(kSetStatus, Params(id.value, domain::StatusName(status)));
  if (updated.empty()) co_return MakeError(ErrorCode::kNotFound, "No such listing.");
  if (status == domain::ListingStatus::kDeleted)
    co_return domain::Listing{.id = id, .status = status};
  auto listing = co_await Find(id);
  if (!listing) co_return MakeError(ErrorCode::kNotFound, "No such listing.");
  co_return std::move(*listing);
}

Task<domain::ListingPage> PgListingsRepository::Browse(const domain::BrowseQuery& query) {
  const BrowseSql& browse = BrowseStatement(query);
  Statement statement{browse.name, browse.sql};
  QueryResult rows = co_await pool_.Execute(statement, BrowseParams(query));
  domain::ListingPage page;
  int count = std::min(rows.size(), query.limit);
  page.items.reserve(count);
  for (int row = 0; row < count; ++row) page.items.push_back(SummaryFromRow(rows, row));
  if (rows.size() > query.limit && !page.items.empty())
    page.next = domain::CursorAfter(page.items.back(), query);
  co_return page;
}

Task<Result<domain::ListingImage>> PgListingsRepository::AddImage(ListingId id,
                                                                  const services::NewImage& image,
                                                                  int max_images) {
  Transaction tx = co_await pool_.BeginTransaction();
  QueryResult locked = co_await tx.Execute(kLockForImages, Params(id.value));
  if (locked.empty()) co_return MakeError(ErrorCode::kNotFound, "No such listing.");
  QueryResult count = co_await tx.Execute(kCountImages, Params(id.value));
  if (count.Int(0, "images") >= max_images)
    co_return MakeError(ErrorCode::kConflict, "A listing has at most 10 images.");
  QueryResult inserted = co_await tx.Execute(
      kInsertImage,
      Params(id.value, image.original_key, image.small_key, image.large_key, image.format,
             static_cast<std::int64_t>(image.width), static_cast<std::int64_t>(image.height),
             static_cast<std::int64_t>(image.bytes)));
  co_await tx.Execute(kBumpVersion, Params(id.value));
  co_await tx.Commit();
  co_return ImageFromRow(inserted, 0);
}

Task<Result<void>> PgListingsRepository::SetMainImage(ListingId id, ImageId image) {
  Transaction tx = co_await pool_.BeginTransaction();
  QueryResult locked = co_await tx.Execute(kLockForImages, Params(id.value));
  if (locked.empty()) co_return MakeError(ErrorCode::kNotFound, "No such listing.");
  // Cleared first: the unique index allows one main image per listing at any moment.
  co_await tx.Execute(kClearMain, Params(id.value, image.value));
  QueryResult set = co_await tx.Execute(kSetMain, Params(id.value, image.value));
  if (set.empty()) co_return MakeError(ErrorCode::kNotFound, "No such image on this listing.");
  co_await tx.Execute(kBumpVersion, Params(id.value));
  co_await tx.Commit();
  co_return Ok();
}

Task<Result<void>> PgListingsRepository::DeleteImage(ListingId id, ImageId image) {
  Transaction tx = co_await pool_.BeginTransaction();
  QueryResult locked = co_await tx.Execute(kLockForImages, Params(id.value));
  if (locked.empty()) co_return MakeError(ErrorCode::kNotFound, "No such listing.");
  QueryResult deleted = co_await tx.Execute(kDeleteImage, Params(id.value, image.value));
  if (deleted.empty()) co_return MakeError(ErrorCode::kNotFound, "No such image on this listing.");
  if (deleted.Bool(0, "is_main")) co_await tx.Execute(kPromoteFirst, Params(id.value));
  co_await tx.Execute(kBumpVersion, Params(id.value));
  co_await tx.Commit();
  co_return Ok();
}

Task<Result<void>> PgListingsRepository::ReorderImages(ListingId id,
                                                       const std::vector<ImageId>& order) {
  Transaction tx = co_await pool_.BeginTransaction();
  QueryResult locked = co_await tx.Execute(kLockForImages, Params(id.value));
  if (locked.empty()) co_return MakeError(ErrorCode::kNotFound, "No such listing.");
  QueryResult ids = co_await tx.Execute(kImageIds, Params(id.value));
  std::vector<std::int64_t> stored, given;
  for (int row = 0; row < ids.size(); ++row) stored.push_back(ids.Int(row, "id"));
  for (ImageId image : order) given.push_back(image.value);
  std::sort(given.begin(), given.end());
  if (given != stored)
    co_return ValidationError({{"image_ids", "must list every image of the listing once"}});
  for (std::size_t i = 0; i < order.size(); ++i) {
    co_await tx.Execute(kSetPosition,
                        Params(id.value, order[i].value, static_cast<std::int64_t>(i + 1)));
  }
  co_await tx.Execute(kBumpVersion, Params(id.value));
  co_await tx.Commit();
  co_return Ok();
}

}  // namespace market::pg
