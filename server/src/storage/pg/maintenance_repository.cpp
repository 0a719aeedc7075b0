#include "storage/pg/maintenance_repository.hpp"

#include <string>
#include <utility>
#include <vector>

#include "storage/pg/params.hpp"

namespace market::pg {
namespace {

// Every batch deletes by primary key what a bounded subquery picked, so that one call never
// touches more than `limit` rows however much has piled up.

constexpr Statement kDeleteExpiredSessions{
    "maintenance.delete_expired_sessions",
    "DELETE FROM session_families WHERE id IN (SELECT id FROM session_families "
    "WHERE expires_at < now() ORDER BY expires_at LIMIT $1)"};

constexpr Statement kDeleteIdempotencyKeys{
    "maintenance.delete_idempotency_keys",
    "DELETE FROM idempotency_keys WHERE (user_id, key) IN (SELECT user_id, key FROM "
    "idempotency_keys WHERE created_at < now() - $1 * interval '1 second' "
    "ORDER BY created_at LIMIT $2)"};

constexpr Statement kDeletePaymentEvents{
    "maintenance.delete_payment_events",
    "DELETE FROM payment_events WHERE (provider, event_id) IN (SELECT provider, event_id FROM "
    "payment_events WHERE received_at < now() - $1 * interval '1 second' "
    "ORDER BY received_at LIMIT $2)"};

// Only events that are finished with: delivered, or given up on.
constexpr Statement kDeleteWebhookEvents{
    "maintenance.delete_webhook_events",
    "DELETE FROM local_webhook_events WHERE id IN ("
    "(SELECT id FROM local_webhook_events WHERE delivered_at < now() - $1 * interval '1 second' "
    "LIMIT $2) UNION ALL "
    "(SELECT id FROM local_webhook_events WHERE failed_at < now() - $1 * interval '1 second' "
    "LIMIT $2) LIMIT $2)"};

constexpr Statement kDeleteSucceededJobs{
    "maintenance.delete_succeeded_jobs",
    "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status = 'succeeded' AND "
    "finished_at < now() - $1 * interval '1 second' ORDER BY finished_at LIMIT $2)"};

// Claims the accounts of a batch; concurrent purges split them between them.
constexpr Statement kLockDeletedUsers{
    "maintenance.lock_deleted_users",
    "SELECT id FROM users WHERE deleted_at < now() - $1 * interval '1 second' AND "
    "anonymized_at IS NULL ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED"};

// In id order like checkout, so that the two cannot deadlock. The statements after it read in
// snapshots of their own, taken once these locks are held: an order placed on one of these
// listings before the lock was granted is seen, so no listing an order refers to is deleted.
constexpr Statement kLockSellerListings{
    "maintenance.lock_seller_listings",
    "SELECT id FROM listings WHERE seller_id = ANY($1::bigint[]) ORDER BY id FOR UPDATE"};

constexpr Statement kDeleteUserSessions{
    "maintenance.delete_user_sessions",
    "DELETE FROM session_families WHERE user_id = ANY($1::bigint[])"};

constexpr Statement kDeleteUserCarts{
    "maintenance.delete_user_carts",
    "DELETE FROM cart_items WHERE user_id = ANY($1::bigint[]) OR listing_id IN "
    "(SELECT id FROM listings WHERE seller_id = ANY($1::bigint[]))"};

constexpr Statement kDeleteUserKeys{
    "maintenance.delete_user_keys",
    "DELETE FROM idempotency_keys WHERE user_id = ANY($1::bigint[])"};

constexpr Statement kDeleteSellerImages{
    "maintenance.delete_seller_images",
    "DELETE FROM listing_images WHERE listing_id IN "
    "(SELECT id FROM listings WHERE seller_id = ANY($1::bigint[]))"};

constexpr Statement kDeleteSellerListings{
    "maintenance.delete_seller_listings",
    "DELETE FROM listings l WHERE seller_id = ANY($1::bigint[]) AND NOT EXISTS "
    "(SELECT 1 FROM order_items oi WHERE oi.listing_id = l.id) RETURNING id"};

// What is left is referred to by orders, which keep their own snapshot of it.
constexpr Statement kRetireSellerListings{
    "maintenance.retire_seller_listings",
    "UPDATE listings SET status = 'deleted', description = '', version = version + 1, "
    "updated_at = now(), status_changed_at = CASE WHEN status = 'deleted' THEN "
    "status_changed_at ELSE now() END WHERE seller_id = ANY($1::bigint[]) RETURNING id"};

// The placeholders cannot collide with each other (they carry the id); should someone have
// registered one of them, a random suffix makes it unique anyway.
constexpr Statement kAnonymiseUsers{
    "maintenance.anonymise_users",
    "UPDATE users u SET "
    "username = CASE WHEN EXISTS (SELECT 1 FROM users o WHERE o.id <> u.id AND "
    "o.username = ('deleted-' || u.id)::citext) "
    "THEN 'deleted-' || u.id || '-' || substr(md5(random()::text), 1, 6) "
    "ELSE 'deleted-' || u.id END, "
    "email = CASE WHEN EXISTS (SELECT 1 FROM users o WHERE o.id <> u.id AND "
    "o.email = ('deleted-' || u.id || '@invalid')::citext) "
    "THEN 'deleted-' || u.id || '-' || substr(md5(random()::text), 1, 6) || '@invalid' "
    "ELSE 'deleted-' || u.id || '@invalid' END, "
    "display_name = 'Deleted user', password_hash = '', anonymized_at = now(), "
    "updated_at = now() WHERE u.id = ANY($1::bigint[])"};

constexpr Statement kLockRetiredListings{
    "maintenance.lock_retired_listings",
    "SELECT id FROM listings l WHERE status IN ('inactive', 'deleted') AND "
    "status_changed_at < now() - $1 * interval '1 second' AND NOT EXISTS "
    "(SELECT 1 FROM order_items oi WHERE oi.listing_id = l.id) "
    "ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED"};

// Checked again after the locks: the listing may have been reactivated or ordered meanwhile.
constexpr Statement kDeleteRetiredListings{
    "maintenance.delete_retired_listings",
    "DELETE FROM listings l WHERE id = ANY($1::bigint[]) AND status IN ('inactive', 'deleted') "
    "AND status_changed_at < now() - $2 * interval '1 second' AND NOT EXISTS "
    "(SELECT 1 FROM order_items oi WHERE oi.listing_id = l.id) RETURNING id"};

std::string IdArray(const QueryResult& rows) {
  std::string text = "{";
  for (int r = 0; r < rows.size(); ++r) {
    if (r > 0) text += ',';
    text += std::to_string(rows.Int(r, "id"));
  }
  return text + "}";
}

std::int64_t Seconds(std::chrono::seconds age) { return age.count(); }

// One batch of a delete whose $1 is the age in seconds and $2 the limit.
Task<std::int64_t> DeleteOlder(Pool& pool, const Statement& statement, std::chrono::seconds age,
                               int limit) {
  QueryResult deleted = co_await pool.Execute(statement, Params(Seconds(age), limit));
  co_return deleted.affected_rows();
}

}  // namespace

Task<std::int64_t> PgMaintenanceRepository::DeleteExpiredSessions(int limit) {
  QueryResult deleted = co_await pool_.Execute(kDeleteExpiredSessions, Params(limit));
  co_return deleted.affected_rows();
}

Task<std::int64_t> PgMaintenanceRepository::DeleteIdempotencyKeys(std::chrono::seconds age,
                                                                  int limit) {
  return DeleteOlder(pool_, kDeleteIdempotencyKeys, age, limit);
}

Task<std::int64_t> PgMaintenanceRepository::DeletePaymentEvents(std::chrono::seconds age,
                                                                int limit) {
  return DeleteOlder(pool_, kDeletePaymentEvents, age, limit);
}

Task<std::int64_t> PgMaintenanceRepository::DeleteWebhookEvents(std::chrono::seconds age,
                                                                int limit) {
  return DeleteOlder(pool_, kDeleteWebhookEvents, age, limit);
}

Task<std::int64_t> PgMaintenanceRepository::DeleteSucceededJobs(std::chrono::seconds age,
                                                                int limit) {
  return DeleteOlder(pool_, kDeleteSucceededJobs, age, limit);
}

Task<services::PurgedAccounts> PgMaintenanceRepository::PurgeDeletedAccounts(
    std::chrono::seconds age, int limit) {
  services::PurgedAccounts purged;
  auto tx = co_await pool_.Begin();
  Transaction& pg = AsPg(*tx);
  QueryResult users = co_await pg.Execute(kLockDeletedUsers, Params(Seconds(age), limit));
  if (users.empty()) co_return purged;
  for (int r = 0; r < users.size(); ++r) purged.users.push_back(UserId{users.Int(r, "id")});
  const std::string ids = IdArray(users);
  co_await pg.Execute(kLockSellerListings, Params(ids));

  std::vector<Call> calls;
  calls.push_back(Call{kDeleteUserSessions, Params(ids)});
  calls.push_back(Call{kDeleteUserCarts, Params(ids)});
  calls.push_back(Call{kDeleteUserKeys, Params(ids)});
  calls.push_back(Call{kDeleteSellerImages, Params(ids)});
  calls.push_back(Call{kDeleteSellerListings, Params(ids)});
  calls.push_back(Call{kRetireSellerListings, Params(ids)});
  calls.push_back(Call{kAnonymiseUsers, Params(ids)});
  std::vector<QueryResult> results = co_await pg.ExecuteAllAndCommit(std::move(calls));
  purged.listings_deleted = results[4].size();
  purged.listings_retired = results[5].size();
  co_return purged;
}

Task<std::vector<ListingId>> PgMaintenanceRepository::DeleteRetiredListings(
    std::chrono::seconds age, int limit) {
  std::vector<ListingId> deleted;
  auto tx = co_await pool_.Begin();
  Transaction& pg = AsPg(*tx);
  QueryResult locked = co_await pg.Execute(kLockRetiredListings, Params(Seconds(age), limit));
  if (locked.empty()) co_return deleted;
  const std::string ids = IdArray(locked);
  QueryResult rows = co_await pg.Execute(kDeleteRetiredListings, Params(ids, Seconds(age)));
  co_await pg.Commit();
  for (int r = 0; r < rows.size(); ++r) deleted.push_back(ListingId{rows.Int(r, "id")});
  co_return deleted;
}

}  // namespace market::pg
