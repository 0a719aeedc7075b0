#include "storage/pg/addresses_repository.hpp"

#include <charconv>

#include <fmt/format.h>

#include "storage/pg/params.hpp"

namespace market::pg {
namespace {

#define ADDRESS_COLUMNS                                                                         \
  "id, user_id, is_default, recipient_name, line1, line2, city, region, postal_code, country, " \
  "phone, latitude::text AS latitude, longitude::text AS longitude, precision, provider, "      \
  "place_id, validated_at, created_at, updated_at"

constexpr Statement kList{"addresses.list", "SELECT " ADDRESS_COLUMNS
                                            " FROM addresses WHERE user_id = $1 "
                                            "ORDER BY is_default DESC, created_at DESC, id DESC"};

constexpr Statement kFind{
    "addresses.find", "SELECT " ADDRESS_COLUMNS " FROM addresses WHERE id = $1 AND user_id = $2"};

// On the user's own row, as the cart does: one change to a user's address book at a time, so the
// count that is checked is the count that is written and the default moves in one step.
constexpr Statement kLockUser{"addresses.lock_user",
                              "SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE"};

constexpr Statement kCount{"addresses.count",
                           "SELECT count(*) AS addresses, coalesce(bool_or(is_default), false) "
                           "AS has_default FROM addresses WHERE user_id = $1"};

constexpr Statement kClearDefault{"addresses.clear_default",
                                  "UPDATE addresses SET is_default = false, updated_at = now() "
                                  "WHERE user_id = $1 AND is_default AND id IS DISTINCT FROM $2"};

// The lowest free slot; none left (NULL) fails the NOT NULL constraint, so the database refuses a
// 21st address even to code that skipped the count.
constexpr Statement kInsert{
    "addresses.insert",
    "INSERT INTO addresses (user_id, slot, is_default, recipient_name, line1, line2, city, region, "
    "postal_code, country, phone, latitude, longitude, precision, provider, place_id, "
    "validated_at) VALUES ($1, (SELECT min(s) FROM generate_series(1, 20) AS s WHERE NOT EXISTS "
    "(SELECT 1 FROM addresses a WHERE a.user_id = $1 AND a.slot = s)), $2, $3, $4, $5, $6, $7, "
    "$8, $9, $10, $11::numeric, $12::numeric, $13, $14, $15, $16) RETURNING " ADDRESS_COLUMNS};

constexpr Statement kUpdate{
    "addresses.update",
    "UPDATE addresses SET recipient_name = $3, line1 = $4, line2 = $5, city = $6, region = $7, "
    "postal_code = $8, country = $9, phone = $10, latitude = $11::numeric, "
    "longitude = $12::numeric, precision = $13, provider = $14, place_id = $15, "
    "validated_at = $16, is_default = is_default OR $17, updated_at = now() "
    "WHERE id = $1 AND user_id = $2 RETURNING " ADDRESS_COLUMNS};

constexpr Statement kDelete{
    "addresses.delete",
    "DELETE FROM addresses WHERE id = $1 AND user_id = $2 RETURNING is_default"};

constexpr Statement kPromoteNewest{
    "addresses.promote_newest",
    "UPDATE addresses SET is_default = true, updated_at = now() WHERE id = "
    "(SELECT id FROM addresses WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1)"};

#undef ADDRESS_COLUMNS

std::optional<double> Coordinate(const QueryResult& r, int row, std::string_view column) {
  if (r.IsNull(row, column)) return std::nullopt;
  std::string_view text = r.Text(row, column);
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// numeric(…, 5) takes them as text: five decimals are about a metre, more than any precision we
// store.
std::optional<std::string> CoordinateParam(const std::optional<double>& value) {
  if (!value) return std::nullopt;
  return fmt::format("{:.5f}", *value);
}

domain::SavedAddress AddressFromRow(const QueryResult& r, int row) {
  domain::ShippingAddress address{.recipient_name = r.String(row, "recipient_name"),
                                  .line1 = r.String(row, "line1"),
                                  .line2 = r.String(row, "line2"),
                                  .city = r.String(row, "city"),
                                  .region = r.String(row, "region"),
                                  .postal_code = r.String(row, "postal_code"),
                                  .country = r.String(row, "country"),
                                  .phone = r.String(row, "phone")};
  domain::AddressCheck check{
      .normalized = address,
      .latitude = Coordinate(r, row, "latitude"),
      .longitude = Coordinate(r, row, "longitude"),
      .precision =
          domain::ParsePrecision(r.Text(row, "precision")).value_or(domain::Precision::kNone),
      .provider = r.String(row, "provider"),
      .place_id = r.String(row, "place_id")};
  return domain::SavedAddress{.id = domain::AddressId{r.Int(row, "id")},
                              .user = UserId{r.Int(row, "user_id")},
                              .address = std::move(address),
                              .is_default = r.Bool(row, "is_default"),
                              .check = std::move(check),
                              .validated_at = r.Time(row, "validated_at"),
                              .created_at = r.Time(row, "created_at"),
                              .updated_at = r.Time(row, "updated_at")};
}

// The stored fields of `a`, as $3.. of kInsert (from $2) and kUpdate (from $3).
void AppendFields(std::vector<Param>& params, const domain::SavedAddress& a) {
  const domain::ShippingAddress& f = a.address;
  for (const std::string* text : {&f.recipient_name, &f.line1, &f.line2, &f.city, &f.region,
                                  &f.postal_code, &f.country, &f.phone})
    params.push_back(ToParam(*text));
  params.push_back(CoordinateParam(a.check.latitude));
  params.push_back(CoordinateParam(a.check.longitude));
  params.push_back(ToParam(domain::PrecisionName(a.check.precision)));
  params.push_back(ToParam(a.check.provider));
  params.push_back(ToParam(a.check.place_id));
  params.push_back(ToParam(a.validated_at));
}

Error TooMany(int max) {
  return MakeError(ErrorCode::kConflict,
                   fmt::format("An address book holds at most {} addresses.", max));
}

}  // namespace

Task<std::vector<domain::SavedAddress>> PgAddressesRepository::List(UserId user) {
  QueryResult rows = co_await pool_.Execute(kList, Params(user.value));
  std::vector<domain::SavedAddress> addresses;
  addresses.reserve(rows.size());
  for (int row = 0; row < rows.size(); ++row) addresses.push_back(AddressFromRow(rows, row));
  co_return addresses;
}

Task<std::optional<domain::SavedAddress>> PgAddressesRepository::Find(UserId user,
                                                                      domain::AddressId id) {
  QueryResult rows = co_await pool_.Execute(kFind, Params(id.value, user.value));
  if (rows.empty()) co_return std::nullopt;
  co_return AddressFromRow(rows, 0);
}

Task<Result<domain::SavedAddress>> PgAddressesRepository::Add(UserId user,
                                                              const domain::SavedAddress& address,
                                                              int max) {
  Transaction tx = co_await pool_.BeginTransaction();
  std::vector<Call> check;
  check.push_back(Call{kLockUser, Params(user.value)});
  check.push_back(Call{kCount, Params(user.value)});
  std::vector<QueryResult> checked = co_await tx.ExecuteAll(std::move(check));
  if (checked[1].Int(0, "addresses") >= max) co_return TooMany(max);
  bool make_default = address.is_default || !checked[1].Bool(0, "has_default");

  std::vector<Call> write;
  if (make_default) write.push_back(Call{kClearDefault, Params(user.value, std::nullopt)});
  std::vector<Param> params = Params(user.value, make_default);
  AppendFields(params, address);
  write.push_back(Call{kInsert, std::move(params)});
  std::vector<QueryResult> written;
  try {
    written = co_await tx.ExecuteAllAndCommit(std::move(write));
  } catch (const PgError& e) {
    // Only reachable by writers that bypass the lock above: the database's own limit.
    if (e.constraint() == "addresses_slot_unique" || e.sqlstate() == "23502")
      co_return TooMany(max);
    throw;
  }
  co_return AddressFromRow(written.back(), 0);
}

Task<std::optional<domain::SavedAddress>> PgAddressesRepository::Update(
    UserId user, const domain::SavedAddress& address, bool make_default) {
  Transaction tx = co_await pool_.BeginTransaction();
  std::vector<Call> calls;
  calls.push_back(Call{kLockUser, Params(user.value)});
  if (make_default) calls.push_back(Call{kClearDefault, Params(user.value, address.id.value)});
  std::vector<Param> params = Params(address.id.value, user.value);
  AppendFields(params, address);
  params.push_back(ToParam(make_default));
  calls.push_back(Call{kUpdate, std::move(params)});
  std::vector<QueryResult> results = co_await tx.ExecuteAll(std::move(calls));
  // Not the user's: the transaction rolls back, so no other default was cleared either.
  if (results.back().empty()) co_return std::nullopt;
  co_await tx.Commit();
  co_return AddressFromRow(results.back(), 0);
}

Task<bool> PgAddressesRepository::Remove(UserId user, domain::AddressId id) {
  Transaction tx = co_await pool_.BeginTransaction();
  std::vector<Call> calls;
  calls.push_back(Call{kLockUser, Params(user.value)});
  calls.push_back(Call{kDelete, Params(id.value, user.value)});
  std::vector<QueryResult> results = co_await tx.ExecuteAll(std::move(calls));
  if (results[1].empty()) co_return false;
  if (results[1].Bool(0, "is_default")) {
    std::vector<Call> promote;
    promote.push_back(Call{kPromoteNewest, Params(user.value)});
    co_await tx.ExecuteAllAndCommit(std::move(promote));
  } else {
    co_await tx.Commit();
  }
  co_return true;
}

}  // namespace market::pg
