#include "storage/pg/sessions_repository.hpp"

#include "storage/pg/params.hpp"
#include "storage/pg/users_repository.hpp"

namespace market::pg {
namespace {

constexpr Statement kCreate{
    "sessions.create",
    "WITH family AS (INSERT INTO session_families (user_id, expires_at, user_agent, ip) "
    "VALUES ($1, $2, $3, $4) RETURNING id) "
    "INSERT INTO refresh_tokens (family_id, token_hash) SELECT id, $5 FROM family "
    "RETURNING family_id"};

// The row lock taken by this UPDATE is what serialises two rotations of one token: the second
// waits, re-reads the row, finds used_at set and matches nothing.
constexpr Statement kMarkUsed{
    "sessions.mark_used",
    "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL "
    "RETURNING family_id"};

constexpr Statement kFamilyState{
    "sessions.family_state",
    "SELECT f.user_id, f.expires_at, "
    "(f.revoked_at IS NULL AND f.expires_at > $2 AND u.deleted_at IS NULL) AS live "
    "FROM session_families f JOIN users u ON u.id = f.user_id WHERE f.id = $1"};

constexpr Statement kInsertToken{
    "sessions.insert_token", "INSERT INTO refresh_tokens (family_id, token_hash) VALUES ($1, $2)"};

constexpr Statement kFamilyOfToken{"sessions.family_of_token",
                                   "SELECT family_id FROM refresh_tokens WHERE token_hash = $1"};

constexpr Statement kRevokeFamily{
    "sessions.revoke_family",
    "UPDATE session_families SET revoked_at = now(), revoked_reason = $2 "
    "WHERE id = $1 AND revoked_at IS NULL"};

constexpr Statement kRevokeAllForUser{
    "sessions.revoke_all_for_user",
    "UPDATE session_families SET revoked_at = now(), revoked_reason = $3 "
    "WHERE user_id = $1 AND revoked_at IS NULL AND ($2::bigint IS NULL OR id <> $2::bigint)"};

constexpr Statement kFindSessionUser{
    "sessions.find_session_user",
    "SELECT u.id, u.username::text AS username, u.email::text AS email, u.display_name, "
    "u.created_at, u.updated_at FROM session_families f JOIN users u ON u.id = f.user_id "
    "WHERE f.id = $2 AND f.user_id = $1 AND f.revoked_at IS NULL AND f.expires_at > $3 "
    "AND u.deleted_at IS NULL"};

}  // namespace

Task<SessionFamilyId> PgSessionsRepository::Create(services::Transaction& tx,
                                                   const services::NewSession& session) {
  QueryResult result = co_await AsPg(tx).Execute(
      kCreate, Params(session.user_id.value, session.expires_at, session.user_agent, session.ip,
                      Bytea{session.token_hash}));
  co_return SessionFamilyId{result.Int(0, "family_id")};
}

Task<services::RotateOutcome> PgSessionsRepository::Rotate(services::Transaction& tx,
                                                           std::string_view old_hash,
                                                           std::string_view new_hash,
                                                           TimePoint now) {
  Transaction& pg = AsPg(tx);
  QueryResult used = co_await pg.Execute(kMarkUsed, Params(Bytea{old_hash}, now));
  if (used.empty()) {
    QueryResult known = co_await pg.Execute(kFamilyOfToken, Params(Bytea{old_hash}));
    if (known.empty()) co_return services::RotateOutcome{};
    co_return services::RotateOutcome{.status = services::RotateStatus::kReused,
                                      .family_id = SessionFamilyId{known.Int(0, "family_id")}};
  }
  SessionFamilyId family{used.Int(0, "family_id")};
  QueryResult state = co_await pg.Execute(kFamilyState, Params(family.value, now));
  if (state.empty() || !state.Bool(0, "live")) co_return services::RotateOutcome{};
  co_await pg.Execute(kInsertToken, Params(family.value, Bytea{new_hash}));
  co_return services::RotateOutcome{.status = services::RotateStatus::kRotated,
                                    .user_id = UserId{state.Int(0, "user_id")},
                                    .family_id = family,
                                    .expires_at = state.Time(0, "expires_at")};
}

Task<void> PgSessionsRepository::RevokeFamily(SessionFamilyId family, std::string_view reason) {
  co_await pool_.Execute(kRevokeFamily, Params(family.value, reason));
}

Task<std::optional<SessionFamilyId>> PgSessionsRepository::FamilyOfToken(std::string_view hash) {
  QueryResult result = co_await pool_.Execute(kFamilyOfToken, Params(Bytea{hash}));
  if (result.empty()) co_return std::nullopt;
  co_return SessionFamilyId{result.Int(0, "family_id")};
}

Task<void> PgSessionsRepository::RevokeAllForUser(services::Transaction& tx, UserId user,
                                                  std::optional<SessionFamilyId> keep,
                                                  std::string_view reason) {
  Param keep_param = keep ? ToParam(keep->value) : Param{};
  co_await AsPg(tx).Execute(kRevokeAllForUser, Params(user.value, keep_param, reason));
}

Task<std::optional<domain::User>> PgSessionsRepository::FindSessionUser(UserId user,
                                                                        SessionFamilyId family,
                                                                        TimePoint now) {
  QueryResult result =
      co_await pool_.Execute(kFindSessionUser, Params(user.value, family.value, now));
  if (result.empty()) co_return std::nullopt;
  co_return UserFromRow(result, 0);
}

}  // namespace market::pg
