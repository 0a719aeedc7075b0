// The non-blocking libpq pool against the real PostgreSQL: statements and value formats,
// errors, transactions, pool bounds, and surviving connections the server dropped.
#include "storage/pg/pool.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "db/db_support.hpp"
#include "storage/pg/params.hpp"

namespace market {
namespace {

namespace asio = boost::asio;
using namespace std::chrono;
using namespace std::chrono_literals;
using pg::PgError;
using pg::Statement;
using ::testing::HasSubstr;

constexpr Statement kSelectValues{
    "test.pool.select_values",
    "SELECT $1::bigint AS id, $2::text AS name, $3::text AS missing, $4::boolean AS flag, "
    "$5::bigint AS no_number"};
constexpr Statement kSeries{"test.pool.series", "SELECT generate_series(1, $1::int) AS n"};
constexpr Statement kEchoTime{"test.pool.echo_time", "SELECT $1::timestamptz AS t"};
constexpr Statement kServerTimes{
    "test.pool.server_times",
    "SELECT '2026-11-29 12:55:57.123456+00'::timestamptz AS fractional, "
    "'2026-11-29 14:55:57+02'::timestamptz AS whole, now() AS now, NULL::timestamptz AS never, "
    "current_setting('TimeZone') AS tz"};
constexpr Statement kEchoBytes{"test.pool.echo_bytes",
                               "SELECT $1::bytea AS b, length($1::bytea) AS n"};
constexpr Statement kBackendPid{"test.pool.backend_pid", "SELECT pg_backend_pid() AS pid"};
constexpr Statement kSlowPid{"test.pool.slow_pid",
                             "SELECT pg_backend_pid() AS pid, pg_sleep(0.02)::text AS slept"};
constexpr Statement kDivideByZero{"test.pool.divide_by_zero", "SELECT 1 / 0 AS never"};
constexpr Statement kSyntaxError{"test.pool.syntax_error", "SELEKT 1"};
constexpr Statement kInsertUnique{"test.pool.insert_unique",
                                  "INSERT INTO pool_test_unique (email) VALUES ($1)"};
constexpr Statement kCountUnique{"test.pool.count_unique",
                                 "SELECT count(*) AS n FROM pool_test_unique"};
constexpr Statement kTerminate{
    "test.pool.terminate",
    "SELECT pid, pg_terminate_backend(pid, 5000) AS terminated FROM pg_stat_activity "
    "WHERE application_name = $1 AND pid <> pg_backend_pid()"};
constexpr Statement kLongSleep{"test.pool.long_sleep", "SELECT pg_sleep(2)::text AS slept"};

TimePoint Utc(year_month_day date, microseconds time_of_day) {
  return TimePoint{
      duration_cast<TimePoint::duration>(sys_days{date}.time_since_epoch() + time_of_day)};
}

// A loopback port with nothing listening on it.
unsigned short ClosedPort(asio::io_context& io) {
  asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
  return probe.local_endpoint().port();
}

Task<void> RunScript(pg::Pool& pool, std::string sql) {
  pg::PooledConnection conn = co_await pool.Acquire();
  co_await conn.ExecuteScript(sql);
}

class PgPoolTest : public ::testing::Test {
 protected:
  pg::PoolOptions Options(std::size_t max_size = 4) {
    return pg::PoolOptions{.conninfo = TestDatabaseUrl(), .max_size = max_size};
  }

  asio::io_context io_;
};

TEST_F(PgPoolTest, ExecutesPreparedStatementWithParamsAndReadsColumnsByName) {
  pg::Pool pool(io_.get_executor(), Options());
  RunTask(io_, pool.Ping());

  const pg::QueryResult first = RunTask(
      io_, pool.Execute(kSelectValues,
                        pg::Params(std::int64_t{42}, "widget", std::nullopt, true, pg::Param{})));
  ASSERT_EQ(first.size(), 1);
  EXPECT_EQ(first.Int(0, "id"), 42);
  EXPECT_EQ(first.OptInt(0, "id"), 42);
  EXPECT_EQ(first.String(0, "name"), "widget");
  EXPECT_TRUE(first.Bool(0, "flag"));
  EXPECT_TRUE(first.IsNull(0, "missing"));
  EXPECT_FALSE(first.IsNull(0, "name"));
  EXPECT_EQ(first.OptString(0, "missing"), std::nullopt);
  EXPECT_EQ(first.OptInt(0, "no_number"), std::nullopt);
  EXPECT_THROW(first.Text(0, "missing"), std::logic_error);
  EXPECT_THROW(first.Int(0, "no_such_column"), std::logic_error);
  EXPECT_THROW(first.Int(1, "id"), std::logic_error);

  // Second use of the same statement: already prepared on the connection.
  const pg::QueryResult second =
      RunTask(io_, pool.Execute(kSelectValues,
                                pg::Params(std::int64_t{-9'007'199'254'740'993},
                                           "O'Brien \"; DROP TABLE x; -- ✓", "present", false, 7)));
  EXPECT_EQ(second.Int(0, "id"), -9'007'199'254'740'993);
  EXPECT_EQ(second.String(0, "name"), "O'Brien \"; DROP TABLE x; -- ✓");
  EXPECT_EQ(second.OptString(0, "missing"), "present");
  EXPECT_FALSE(second.Bool(0, "flag"));
  EXPECT_EQ(second.OptInt(0, "no_number"), 7);

  const pg::QueryResult series = RunTask(io_, pool.Execute(kSeries, pg::Params(3)));
  ASSERT_EQ(series.size(), 3);
  EXPECT_EQ(series.affected_rows(), 3);
  EXPECT_EQ(series.Int(2, "n"), 3);
  EXPECT_EQ(pool.open_count(), 1u);
  EXPECT_EQ(pool.idle_count(), 1u);
}

TEST_F(PgPoolTest, TimestampsRoundTrip) {
  pg::Pool pool(io_.get_executor(), Options());
  const std::vector<TimePoint> instants = {
      system_clock::now(),
      Utc(2026y / 11 / 29, 12h + 55min + 57s + 123456us),
      Utc(2026y / 11 / 29, 12h + 55min + 57s),
      Utc(1999y / 12 / 31, 23h + 59min + 59s + 999999us),
      Utc(1969y / 7 / 20, 20h + 17min + 40s + 500000us),
      TimePoint{},
  };
  for (const TimePoint instant : instants) {
    const pg::QueryResult result = RunTask(io_, pool.Execute(kEchoTime, pg::Params(instant)));
    EXPECT_EQ(result.Time(0, "t"), floor<microseconds>(instant))
        << "sent " << *pg::ToParam(instant) << ", got " << result.Text(0, "t");
  }

  const pg::QueryResult server = RunTask(io_, pool.Execute(kServerTimes, pg::NoParams()));
  EXPECT_EQ(server.String(0, "tz"), "UTC");
  EXPECT_EQ(server.Time(0, "fractional"), Utc(2026y / 11 / 29, 12h + 55min + 57s + 123456us));
  EXPECT_EQ(server.Time(0, "whole"), Utc(2026y / 11 / 29, 12h + 55min + 57s));
  EXPECT_LT(abs(server.Time(0, "now") - system_clock::now()), 1min);
  EXPECT_EQ(server.OptTime(0, "never"), std::nullopt);
  EXPECT_EQ(server.OptTime(0, "whole"), Utc(2026y / 11 / 29, 12h + 55min + 57s));
}

TEST_F(PgPoolTest, ByteaRoundTrip) {
  pg::Pool pool(io_.get_executor(), Options());
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  for (const std::string& bytes : {every_byte, std::string()}) {
    const pg::QueryResult result =
        RunTask(io_, pool.Execute(kEchoBytes, pg::Params(pg::Bytea{bytes})));
    EXPECT_EQ(result.Bytes(0, "b"), bytes);
    EXPECT_EQ(result.Int(0, "n"), static_cast<std::int64_t>(bytes.size()));
  }
}

TEST_F(PgPoolTest, LargeResultsAndParamsArriveWhole) {
  pg::Pool pool(io_.get_executor(), Options(1));
  const pg::QueryResult rows = RunTask(io_, pool.Execute(kSeries, pg::Params(200'000)));
  ASSERT_EQ(rows.size(), 200'000);
  EXPECT_EQ(rows.Int(199'999, "n"), 200'000);

  // Larger than the socket buffers, so sending takes several writes.
  std::string big(8 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 251);
  const pg::QueryResult echoed = RunTask(io_, pool.Execute(kEchoBytes, pg::Params(pg::Bytea{big})));
  EXPECT_EQ(echoed.Int(0, "n"), static_cast<std::int64_t>(big.size()));
  EXPECT_TRUE(echoed.Bytes(0, "b") == big);
}

struct UniqueOutcome {
  std::optional<PgError> error;
  std::int64_t rows = 0;
};

Task<UniqueOutcome> InsertTwice(pg::Pool& pool) {
  pg::PooledConnection conn = co_await pool.Acquire();
  co_await conn.ExecuteScript(
      "CREATE TEMP TABLE pool_test_unique "
      "(email text CONSTRAINT pool_test_unique_email_key UNIQUE)");
  co_await conn.Execute(kInsertUnique, pg::Params("a@example.com"));
  UniqueOutcome outcome;
  try {
    co_await conn.Execute(kInsertUnique, pg::Params("a@example.com"));
  } catch (const PgError& e) {
    outcome.error = e;
  }
  // An error outside a transaction leaves the connection ready for the next statement.
  outcome.rows = (co_await conn.Execute(kCountUnique, pg::NoParams())).Int(0, "n");
  co_await conn.ExecuteScript("DROP TABLE pool_test_unique");
  co_return outcome;
}

TEST_F(PgPoolTest, UniqueViolationSurfacesSqlstateAndConstraintName) {
  pg::Pool pool(io_.get_executor(), Options());
  const UniqueOutcome outcome = RunTask(io_, InsertTwice(pool));
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->sqlstate(), "23505");
  EXPECT_TRUE(outcome.error->IsUniqueViolation());
  EXPECT_EQ(outcome.error->constraint(), "pool_test_unique_email_key");
  EXPECT_FALSE(outcome.error->connection_lost());
  EXPECT_EQ(outcome.rows, 1);
}

TEST_F(PgPoolTest, BadSqlIsReportedAndTheConnectionStaysUsable) {
  pg::Pool pool(io_.get_executor(), Options(1));
  try {
    RunTask(io_, pool.Execute(kSyntaxError, pg::NoParams()));
    ADD_FAILURE() << "a syntax error was accepted";
  } catch (const PgError& e) {
    EXPECT_EQ(e.sqlstate(), "42601");
    EXPECT_FALSE(e.connection_lost());
    EXPECT_THAT(e.what(), HasSubstr("test.pool.syntax_error"));
  }
  RunTask(io_, pool.Ping());
  EXPECT_EQ(pool.open_count(), 1u);
}

TEST_F(PgPoolTest, TwoStatementsSharingANameAreRejected) {
  pg::Pool pool(io_.get_executor(), Options(1));
  RunTask(io_, pool.Execute(kBackendPid, pg::NoParams()));
  const Statement impostor{kBackendPid.name, "SELECT 2 AS pid"};
  EXPECT_THROW(RunTask(io_, pool.Execute(impostor, pg::NoParams())), std::logic_error);
}

class PgTransactionTest : public PgPoolTest {
 protected:
  void SetUp() override {
    table_ = "pool_test_tx_" + RandomSuffix();
    insert_sql_ = "INSERT INTO " + table_ + " (id) VALUES ($1)";
    count_sql_ = "SELECT count(*) AS n FROM " + table_ + " WHERE id = $1";
    RunTask(io_, RunScript(admin_, "CREATE TABLE " + table_ + " (id bigint PRIMARY KEY)"));
  }
  void TearDown() override { RunTask(io_, RunScript(admin_, "DROP TABLE " + table_)); }

  Statement Insert() const { return {"test.tx.insert", insert_sql_}; }
  Statement Count() const { return {"test.tx.count", count_sql_}; }

  std::int64_t CountFromElsewhere(std::int64_t id) {
    return RunTask(io_, admin_.Execute(Count(), pg::Params(id))).Int(0, "n");
  }

  pg::Pool admin_{io_.get_executor(), Options(1)};
  std::string table_;
  std::string insert_sql_;
  std::string count_sql_;
};

struct AbandonOutcome {
  std::int64_t pid_in_transaction = 0;
  std::int64_t pid_after = 0;
  std::int64_t rows_after = 0;
};

Task<AbandonOutcome> InsertAndAbandon(pg::Pool& pool, Statement insert, Statement count) {
  AbandonOutcome outcome;
  {
    pg::Transaction tx = co_await pool.BeginTransaction();
    co_await tx.Execute(insert, pg::Params(1));
    outcome.pid_in_transaction = (co_await tx.Execute(kBackendPid, pg::NoParams())).Int(0, "pid");
  }
  // With max_size 1 this waits for the rolled-back connection to come back.
  outcome.rows_after = (co_await pool.Execute(count, pg::Params(1))).Int(0, "n");
  outcome.pid_after = (co_await pool.Execute(kBackendPid, pg::NoParams())).Int(0, "pid");
  co_return outcome;
}

TEST_F(PgTransactionTest, DestroyedWithoutCommitRollsBackAndTheConnectionIsReused) {
  pg::Pool pool(io_.get_executor(), Options(1));
  const AbandonOutcome outcome = RunTask(io_, InsertAndAbandon(pool, Insert(), Count()));
  EXPECT_EQ(outcome.rows_after, 0);
  EXPECT_EQ(outcome.pid_after, outcome.pid_in_transaction);
  EXPECT_EQ(pool.open_count(), 1u);
  EXPECT_EQ(CountFromElsewhere(1), 0);
}

Task<void> InsertAndCommit(pg::Pool& pool, Statement insert) {
  std::unique_ptr<services::Transaction> tx = co_await pool.Begin();
  co_await pg::AsPg(*tx).Execute(insert, pg::Params(2));
  co_await tx->Commit();
}

TEST_F(PgTransactionTest, CommitPersists) {
  pg::Pool pool(io_.get_executor(), Options(1));
  RunTask(io_, InsertAndCommit(pool, Insert()));
  EXPECT_EQ(CountFromElsewhere(2), 1);
  // Commit hands the connection back at once, not when the scope ends.
  EXPECT_EQ(pool.idle_count(), 1u);
}

struct FailedCommitOutcome {
  std::optional<PgError> statement_error;
  std::optional<PgError> commit_error;
};

Task<FailedCommitOutcome> FailThenCommit(pg::Pool& pool, Statement insert) {
  FailedCommitOutcome outcome;
  pg::Transaction tx = co_await pool.BeginTransaction();
  co_await tx.Execute(insert, pg::Params(3));
  try {
    co_await tx.Execute(kDivideByZero, pg::NoParams());
  } catch (const PgError& e) {
    outcome.statement_error = e;
  }
  try {
    co_await tx.Commit();
  } catch (const PgError& e) {
    outcome.commit_error = e;
  }
  co_return outcome;
}

TEST_F(PgTransactionTest, CommitOfAFailedTransactionThrowsAndPersistsNothing) {
  pg::Pool pool(io_.get_executor(), Options(1));
  const FailedCommitOutcome outcome = RunTask(io_, FailThenCommit(pool, Insert()));
  ASSERT_TRUE(outcome.statement_error.has_value());
  EXPECT_EQ(outcome.statement_error->sqlstate(), "22012");
  ASSERT_TRUE(outcome.commit_error.has_value());
  EXPECT_FALSE(outcome.commit_error->connection_lost());
  EXPECT_EQ(CountFromElsewhere(3), 0);
  RunTask(io_, pool.Ping());
  EXPECT_EQ(pool.open_count(), 1u);
}

// BEGIN travels with a transaction's first statement (one round trip, pipeline mode): every way
// that first statement can fail must leave the connection as usable as a failure after BEGIN.

// Runs `first` as the first statement of a transaction, then tries to commit; the errors of both.
Task<FailedCommitOutcome> FirstThenCommit(pg::Pool& pool, Statement first,
                                          std::vector<pg::Param> params) {
  FailedCommitOutcome outcome;
  pg::Transaction tx = co_await pool.BeginTransaction();
  try {
    co_await tx.Execute(first, std::move(params));
  } catch (const PgError& e) {
    outcome.statement_error = e;
  }
  try {
    co_await tx.Commit();
  } catch (const PgError& e) {
    outcome.commit_error = e;
  }
  co_return outcome;
}

TEST_F(PgTransactionTest, AFirstStatementThatFailsToRunFailsTheTransaction) {
  pg::Pool pool(io_.get_executor(), Options(1));
  for (int round = 0; round < 2; ++round) {  // prepared in the pipeline, then already prepared
    const FailedCommitOutcome outcome =
        RunTask(io_, FirstThenCommit(pool, kDivideByZero, pg::NoParams()));
    ASSERT_TRUE(outcome.statement_error.has_value()) << "round " << round;
    EXPECT_EQ(outcome.statement_error->sqlstate(), "22012");
    EXPECT_FALSE(outcome.statement_error->connection_lost());
    ASSERT_TRUE(outcome.commit_error.has_value()) << "round " << round;
    EXPECT_FALSE(outcome.commit_error->connection_lost());
  }
  RunTask(io_, pool.Ping());
  EXPECT_EQ(pool.open_count(), 1u);
}

TEST_F(PgTransactionTest, AFirstStatementThatFailsToPrepareIsNotRememberedAsPrepared) {
  pg::Pool pool(io_.get_executor(), Options(1));
  for (int round = 0; round < 2; ++round) {
    const FailedCommitOutcome outcome =
        RunTask(io_, FirstThenCommit(pool, kSyntaxError, pg::NoParams()));
    ASSERT_TRUE(outcome.statement_error.has_value()) << "round " << round;
    EXPECT_EQ(outcome.statement_error->sqlstate(), "42601") << "prepared again, not 26000";
    EXPECT_THAT(outcome.statement_error->what(), HasSubstr("test.pool.syntax_error"));
  }
  // The same connection still runs transactions.
  const FailedCommitOutcome fine = RunTask(io_, FirstThenCommit(pool, Insert(), pg::Params(7)));
  EXPECT_FALSE(fine.statement_error.has_value());
  EXPECT_FALSE(fine.commit_error.has_value());
  EXPECT_EQ(CountFromElsewhere(7), 1);
  EXPECT_EQ(pool.open_count(), 1u);
}

TEST_F(PgTransactionTest, AStatementPreparedByAFailedFirstRunStaysPrepared) {
  pg::Pool pool(io_.get_executor(), Options(1));
  RunTask(io_, admin_.Execute(Insert(), pg::Params(8)));
  // Prepared, then its run violates the primary key: the prepared statement outlives the
  // rolled-back transaction, and preparing it again would fail with 42P05.
  const FailedCommitOutcome duplicate =
      RunTask(io_, FirstThenCommit(pool, Insert(), pg::Params(8)));
  ASSERT_TRUE(duplicate.statement_error.has_value());
  EXPECT_TRUE(duplicate.statement_error->IsUniqueViolation());
  const FailedCommitOutcome next = RunTask(io_, FirstThenCommit(pool, Insert(), pg::Params(9)));
  EXPECT_FALSE(next.statement_error.has_value())
      << (next.statement_error ? next.statement_error->what() : "");
  EXPECT_FALSE(next.commit_error.has_value());
  EXPECT_EQ(CountFromElsewhere(9), 1);
}

Task<void> BeginAndCommitNothing(pg::Pool& pool) {
  pg::Transaction tx = co_await pool.BeginTransaction();
  co_await tx.Commit();
}

TEST_F(PgTransactionTest, ATransactionWithoutStatementsCommitsNothingAndHandsTheConnectionBack) {
  pg::Pool pool(io_.get_executor(), Options(1));
  RunTask(io_, BeginAndCommitNothing(pool));
  EXPECT_EQ(pool.idle_count(), 1u);
  RunTask(io_, pool.Ping());
  EXPECT_EQ(pool.open_count(), 1u);
}

struct BatchOutcome {
  std::vector<std::int64_t> values;  // one per statement: the pid, or a count
  std::optional<PgError> error;
};

// Two batches in one transaction: the first begins it; the second runs the same (by then
// prepared) statement again, a count of what the first inserted, and a fresh statement.
Task<BatchOutcome> TwoBatches(pg::Pool& pool, Statement insert, Statement count) {
  BatchOutcome outcome;
  pg::Transaction tx = co_await pool.BeginTransaction();
  std::vector<pg::Call> first;
  first.push_back(pg::Call{insert, pg::Params(11)});
  first.push_back(pg::Call{insert, pg::Params(12)});
  first.push_back(pg::Call{kBackendPid, pg::NoParams()});
  std::vector<pg::QueryResult> a = co_await tx.ExecuteAll(std::move(first));
  outcome.values.push_back(a[0].affected_rows());
  outcome.values.push_back(a[1].affected_rows());
  outcome.values.push_back(a[2].Int(0, "pid"));
  std::vector<pg::Call> second;
  second.push_back(pg::Call{insert, pg::Params(13)});
  second.push_back(pg::Call{count, pg::Params(12)});
  second.push_back(pg::Call{kSeries, pg::Params(3)});
  std::vector<pg::QueryResult> b = co_await tx.ExecuteAll(std::move(second));
  outcome.values.push_back(b[0].affected_rows());
  outcome.values.push_back(b[1].Int(0, "n"));
  outcome.values.push_back(b[2].size());
  co_await tx.Commit();
  co_return outcome;
}

TEST_F(PgTransactionTest, ABatchRunsItsStatementsInOrderInTheTransaction) {
  pg::Pool pool(io_.get_executor(), Options(1));
  const BatchOutcome outcome = RunTask(io_, TwoBatches(pool, Insert(), Count()));
  ASSERT_EQ(outcome.values.size(), 6u);
  EXPECT_EQ(outcome.values[0], 1);
  EXPECT_EQ(outcome.values[1], 1);
  EXPECT_GT(outcome.values[2], 0);
  EXPECT_EQ(outcome.values[3], 1);
  EXPECT_EQ(outcome.values[4], 1) << "the count sees the row the batch before it inserted";
  EXPECT_EQ(outcome.values[5], 3);
  EXPECT_EQ(CountFromElsewhere(11) + CountFromElsewhere(12) + CountFromElsewhere(13), 3);
}

Task<BatchOutcome> BatchWithAFailure(pg::Pool& pool, Statement insert) {
  BatchOutcome outcome;
  {
    pg::Transaction tx = co_await pool.BeginTransaction();
    std::vector<pg::Call> calls;
    calls.push_back(pg::Call{insert, pg::Params(21)});
    calls.push_back(pg::Call{kDivideByZero, pg::NoParams()});
    calls.push_back(pg::Call{insert, pg::Params(22)});
    try {
      co_await tx.ExecuteAll(std::move(calls));
    } catch (const PgError& e) {
      outcome.error = e;
    }
  }
  // The connection comes back rolled back and runs the next batch.
  pg::Transaction tx = co_await pool.BeginTransaction();
  std::vector<pg::Call> calls;
  calls.push_back(pg::Call{insert, pg::Params(23)});
  co_await tx.ExecuteAll(std::move(calls));
  co_await tx.Commit();
  co_return outcome;
}

TEST_F(PgTransactionTest, AFailureInABatchSkipsTheRestAndIsNamedAfterItsStatement) {
  pg::Pool pool(io_.get_executor(), Options(1));
  const BatchOutcome outcome = RunTask(io_, BatchWithAFailure(pool, Insert()));
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_EQ(outcome.error->sqlstate(), "22012");
  EXPECT_FALSE(outcome.error->connection_lost());
  EXPECT_THAT(outcome.error->what(), HasSubstr("test.pool.divide_by_zero"));
  EXPECT_EQ(CountFromElsewhere(21), 0);
  EXPECT_EQ(CountFromElsewhere(22), 0);
  EXPECT_EQ(CountFromElsewhere(23), 1);
  EXPECT_EQ(pool.open_count(), 1u);
}

Task<BatchOutcome> CommitBatches(pg::Pool& pool, Statement insert) {
  BatchOutcome outcome;
  {
    pg::Transaction tx = co_await pool.BeginTransaction();
    co_await tx.Execute(insert, pg::Params(31));
    std::vector<pg::Call> calls;
    calls.push_back(pg::Call{insert, pg::Params(32)});
    calls.push_back(pg::Call{kBackendPid, pg::NoParams()});
    std::vector<pg::QueryResult> results = co_await tx.ExecuteAllAndCommit(std::move(calls));
    outcome.values.push_back(results[1].Int(0, "pid"));
    outcome.values.push_back(static_cast<std::int64_t>(pool.idle_count()));
  }
  pg::Transaction tx = co_await pool.BeginTransaction();
  std::vector<pg::Call> calls;
  calls.push_back(pg::Call{insert, pg::Params(33)});
  calls.push_back(pg::Call{insert, pg::Params(31)});  // already there: the batch fails
  try {
    co_await tx.ExecuteAllAndCommit(std::move(calls));
  } catch (const PgError& e) {
    outcome.error = e;
  }
  co_return outcome;
}

TEST_F(PgTransactionTest, ABatchWithItsCommitKeepsEverythingOrNothing) {
  pg::Pool pool(io_.get_executor(), Options(1));
  const BatchOutcome outcome = RunTask(io_, CommitBatches(pool, Insert()));
  ASSERT_EQ(outcome.values.size(), 2u);
  EXPECT_EQ(outcome.values[1], 1) << "committed: the connection went back to the pool at once";
  EXPECT_EQ(CountFromElsewhere(31), 1);
  EXPECT_EQ(CountFromElsewhere(32), 1);
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_TRUE(outcome.error->IsUniqueViolation());
  EXPECT_EQ(CountFromElsewhere(33), 0) << "the COMMIT after a failure does not run";
  RunTask(io_, pool.Ping());
  EXPECT_EQ(pool.open_count(), 1u);
}

TEST_F(PgPoolTest, BoundsConnectionsToMaxSize) {
  pg::Pool pool(io_.get_executor(), Options(2));
  constexpr int kQueries = 10;
  int succeeded = 0;
  int finished = 0;
  std::size_t most_open = 0;
  std::set<std::int64_t> pids;
  auto query = [](pg::Pool& pool, std::size_t& most_open) -> Task<std::int64_t> {
    const pg::QueryResult result = co_await pool.Execute(kSlowPid, pg::NoParams());
    most_open = std::max(most_open, pool.open_count());
    co_return result.Int(0, "pid");
  };
  for (int i = 0; i < kQueries; ++i) {
    asio::co_spawn(io_, query(pool, most_open), [&](std::exception_ptr e, std::int64_t pid) {
      ++finished;
      if (e) return;
      ++succeeded;
      pids.insert(pid);
    });
  }
  io_.restart();
  const auto deadline = steady_clock::now() + 30s;
  while (finished < kQueries && io_.run_one_until(deadline) > 0) {
  }
  EXPECT_EQ(succeeded, kQueries);
  EXPECT_LE(most_open, 2u);
  EXPECT_LE(pool.open_count(), 2u);
  EXPECT_EQ(pids.size(), 2u);
}

struct ExhaustedOutcome {
  std::optional<PgError> error;
  steady_clock::duration waited{};
  bool acquired_after_release = false;
};

Task<ExhaustedOutcome> AcquireWhileHeld(pg::Pool& pool) {
  ExhaustedOutcome outcome;
  pg::PooledConnection held = co_await pool.Acquire();
  const auto start = steady_clock::now();
  try {
    pg::PooledConnection second = co_await pool.Acquire();
  } catch (const PgError& e) {
    outcome.error = e;
  }
  outcome.waited = steady_clock::now() - start;
  held = pg::PooledConnection();
  pg::PooledConnection again = co_await pool.Acquire();
  co_await again.ExecuteScript("SELECT 1");
  outcome.acquired_after_release = true;
  co_return outcome;
}

TEST_F(PgPoolTest, AcquireTimesOutWhenExhausted) {
  pg::PoolOptions options = Options(1);
  options.acquire_timeout = 100ms;
  pg::Pool pool(io_.get_executor(), options);
  const ExhaustedOutcome outcome = RunTask(io_, AcquireWhileHeld(pool));
  ASSERT_TRUE(outcome.error.has_value());
  EXPECT_TRUE(outcome.error->connection_lost());
  EXPECT_THAT(outcome.error->what(), HasSubstr("exhausted"));
  EXPECT_GE(outcome.waited, 100ms);
  EXPECT_TRUE(outcome.acquired_after_release);
  EXPECT_EQ(pool.open_count(), 1u);
}

Task<std::vector<std::int64_t>> OpenConnections(pg::Pool& pool) {
  pg::PooledConnection a = co_await pool.Acquire();
  pg::PooledConnection b = co_await pool.Acquire();
  std::vector<std::int64_t> pids;
  pids.push_back((co_await a.Execute(kBackendPid, pg::NoParams())).Int(0, "pid"));
  pids.push_back((co_await b.Execute(kBackendPid, pg::NoParams())).Int(0, "pid"));
  co_return pids;
}

TEST_F(PgPoolTest, ReconnectsAfterTheServerTerminatesItsConnections) {
  // Only this pool's sessions are terminated: other suites share the database.
  const std::string application = "pool_test_" + RandomSuffix();
  pg::PoolOptions options = Options(2);
  options.conninfo = AddConnParam(options.conninfo, "application_name", application);
  pg::Pool pool(io_.get_executor(), options);
  const std::vector<std::int64_t> old_pids = RunTask(io_, OpenConnections(pool));
  ASSERT_EQ(pool.idle_count(), 2u);

  pg::Pool admin(io_.get_executor(), Options(1));
  const pg::QueryResult terminated =
      RunTask(io_, admin.Execute(kTerminate, pg::Params(application)));
  ASSERT_EQ(terminated.size(), 2);
  for (int row = 0; row < terminated.size(); ++row) {
    EXPECT_TRUE(terminated.Bool(row, "terminated"));
  }

  const std::int64_t new_pid =
      RunTask(io_, pool.Execute(kBackendPid, pg::NoParams())).Int(0, "pid");
  EXPECT_THAT(old_pids, ::testing::Not(::testing::Contains(new_pid)));
  EXPECT_EQ(pool.open_count(), 1u);
}

TEST_F(PgPoolTest, UnreachableServerFailsWithConnectionLostWithoutHanging) {
  pg::PoolOptions options{
      .conninfo = "postgresql://postgres@127.0.0.1:" + std::to_string(ClosedPort(io_)) + "/x",
      .connect_timeout = 2s};
  pg::Pool pool(io_.get_executor(), options);
  EXPECT_EQ(pool.open_count(), 0u);
  try {
    RunTask(io_, pool.Ping(), 10s);
    ADD_FAILURE() << "connected to a closed port";
  } catch (const PgError& e) {
    EXPECT_TRUE(e.connection_lost());
  }
  EXPECT_EQ(pool.open_count(), 0u);
}

TEST_F(PgPoolTest, ConnectTimesOutWhenTheServerNeverAnswers) {
  // Listening, so the TCP handshake completes, but nobody ever reads the startup packet.
  asio::ip::tcp::acceptor silent(io_, {asio::ip::make_address("127.0.0.1"), 0});
  pg::PoolOptions options{.conninfo = "postgresql://postgres@127.0.0.1:" +
                                      std::to_string(silent.local_endpoint().port()) + "/x",
                          .connect_timeout = 200ms};
  pg::Pool pool(io_.get_executor(), options);
  const auto start = steady_clock::now();
  try {
    RunTask(io_, pool.Ping(), 10s);
    ADD_FAILURE() << "connected to a silent server";
  } catch (const PgError& e) {
    EXPECT_TRUE(e.connection_lost());
    EXPECT_THAT(e.what(), HasSubstr("no answer"));
  }
  EXPECT_GE(steady_clock::now() - start, 200ms);
  EXPECT_EQ(pool.open_count(), 0u);
}

Task<bool> CancelSlowQuery(pg::Pool& pool) {
  using asio::experimental::awaitable_operators::operator||;
  asio::steady_timer timer(co_await asio::this_coro::executor, 50ms);
  auto slow = pool.Execute(kLongSleep, pg::NoParams());
  auto outcome = co_await (std::move(slow) || timer.async_wait(asio::use_awaitable));
  co_return outcome.index() == 1;
}

TEST_F(PgPoolTest, QueryInterruptedMidFlightDropsItsConnection) {
  pg::Pool pool(io_.get_executor(), Options(1));
  EXPECT_TRUE(RunTask(io_, CancelSlowQuery(pool)));
  // The interrupted connection's protocol state is unknown, so it is not reused.
  EXPECT_EQ(pool.open_count(), 0u);
  RunTask(io_, pool.Ping());
  EXPECT_EQ(pool.open_count(), 1u);
}

Task<void> BeginAndAbandon(pg::Pool& pool) {
  pg::Transaction tx = co_await pool.BeginTransaction();
  co_await tx.Execute(kBackendPid, pg::NoParams());
}

TEST_F(PgPoolTest, PoolDestroyedWhileARollbackIsInFlightIsNotTouched) {
  auto pool = std::make_unique<pg::Pool>(io_.get_executor(), Options(1));
  RunTask(io_, BeginAndAbandon(*pool));
  pool.reset();
  // The detached rollback finishes after the pool is gone; ASan checks it does not return there.
  io_.restart();
  io_.run_for(5s);
  EXPECT_TRUE(io_.stopped());
}

}  // namespace
}  // namespace market
