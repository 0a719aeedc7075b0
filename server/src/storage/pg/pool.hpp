#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "common/clock.hpp"
#include "common/task.hpp"
#include "services/database.hpp"

typedef struct pg_result PGresult;

namespace market::pg {

// A server-reported or connection failure. Repositories turn the expected ones (unique
// violations, serialization failures) into ErrorCodes; the rest travel up as exceptions.
class PgError : public std::runtime_error {
 public:
  PgError(std::string message, std::string sqlstate, std::string constraint, bool connection_lost)
      : std::runtime_error(std::move(message)),
        sqlstate_(std::move(sqlstate)),
        constraint_(std::move(constraint)),
        connection_lost_(connection_lost) {}

  const std::string& sqlstate() const { return sqlstate_; }
  const std::string& constraint() const { return constraint_; }
  // True when the server could not be reached or the connection broke: answered with 503.
  bool connection_lost() const { return connection_lost_; }
  bool IsUniqueViolation() const { return sqlstate_ == "23505"; }
  bool IsSerializationFailure() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }

 private:
  std::string sqlstate_;
  std::string constraint_;
  bool connection_lost_;
};

// A named SQL text, prepared once per connection on first use. Define them as constants in the
// repository that uses them.
struct Statement {
  std::string_view name;
  std::string_view sql;
};

// Text-format parameter; nullopt is SQL NULL.
using Param = std::optional<std::string>;

// One statement with its parameters, for sending several in one round trip.
struct Call {
  Statement statement;
  std::vector<Param> params;
};

Param ToParam(std::int64_t v);
Param ToParam(int v);
Param ToParam(bool v);
Param ToParam(std::string_view v);
Param ToParam(const std::string& v);
Param ToParam(const char* v);
Param ToParam(TimePoint v);
Param ToParam(std::nullopt_t);
template <class T>
Param ToParam(const std::optional<T>& v) {
  return v ? ToParam(*v) : Param{};
}
// Binary data as a bytea hex literal.
Param ToByteaParam(std::string_view bytes);

// The rows of one statement, read by column name.
class QueryResult {
 public:
  QueryResult() = default;
  explicit QueryResult(PGresult* res);

  int size() const;
  bool empty() const { return size() == 0; }
  std::int64_t affected_rows() const;

  bool IsNull(int row, std::string_view column) const;
  std::string_view Text(int row, std::string_view column) const;
  std::string String(int row, std::string_view column) const {
    return std::string(Text(row, column));
  }
  std::optional<std::string> OptString(int row, std::string_view column) const;
  std::int64_t Int(int row, std::string_view column) const;
  std::optional<std::int64_t> OptInt(int row, std::string_view column) const;
  bool Bool(int row, std::string_view column) const;
  // timestamptz (the connection runs with TimeZone=UTC and DateStyle=ISO).
  TimePoint Time(int row, std::string_view column) const;
  std::optional<TimePoint> OptTime(int row, std::string_view column) const;
  // bytea in hex output form, decoded.
  std::string Bytes(int row, std::string_view column) const;

 private:
  int Column(std::string_view column) const;
  std::shared_ptr<PGresult> res_;
};

class Connection;
class Pool;

// A connection checked out of the pool; returned to it when destroyed. A connection left inside
// a transaction is rolled back (asynchronously) before anyone else gets it; a broken one is
// dropped.
class PooledConnection {
 public:
  PooledConnection();
  PooledConnection(Pool* pool, std::unique_ptr<Connection> conn);
  PooledConnection(PooledConnection&&) noexcept;
  PooledConnection& operator=(PooledConnection&&) noexcept;
  ~PooledConnection();

  Task<QueryResult> Execute(const Statement& statement, std::vector<Param> params);
  // The calls in one round trip, between a BEGIN and a COMMIT if asked (see
  // Connection::ExecuteAll).
  Task<std::vector<QueryResult>> ExecuteAll(std::vector<Call> calls, bool begin, bool commit);
  // Simple-protocol text, may hold several statements; for migrations and BEGIN/COMMIT.
  Task<void> ExecuteScript(std::string_view sql);

 private:
  friend class Transaction;
  void Release();
  Pool* pool_ = nullptr;
  std::unique_ptr<Connection> conn_;
};

// Anything a repository can run a statement on: the pool (auto-commit) or a transaction.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual Task<QueryResult> Execute(const Statement& statement, std::vector<Param> params) = 0;
};

// RAII transaction: rolled back unless Commit() succeeded. BEGIN goes out with the first
// statement, in the same round trip; a transaction that ran no statement commits nothing.
class Transaction final : public Executor, public services::Transaction {
 public:
  explicit Transaction(PooledConnection conn) : conn_(std::move(conn)) {}
  Task<QueryResult> Execute(const Statement& statement, std::vector<Param> params) override;
  // Several statements in one round trip, in order; each starts after the one before it has
  // finished (so a read after a lock sees what the lock waited for). Throws the first failure.
  Task<std::vector<QueryResult>> ExecuteAll(std::vector<Call> calls);
  // ExecuteAll, then COMMIT, in the same round trip: the transaction ends either way, committed
  // only if every statement succeeded (the first failure is thrown, and nothing is kept).
  Task<std::vector<QueryResult>> ExecuteAllAndCommit(std::vector<Call> calls);
  Task<void> Commit() override;

 private:
  PooledConnection conn_;
  bool begun_ = false;
  bool done_ = false;
};

// Repositories receive services::Transaction&; this is the one place that narrows it back.
Transaction& AsPg(services::Transaction& tx);

struct PoolOptions {
  std::string conninfo;  // a libpq URL or key=value string
  std::size_t max_size = 16;
  std::chrono::milliseconds acquire_timeout{5000};
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds statement_timeout{10000};
};

// A pool of non-blocking libpq connections driven by one io_context's executor. Not thread-safe:
// each io thread owns its own pool (shared-nothing). Connections open lazily, so building a pool
// touches no network; a connection the server dropped (restart) is detected and replaced.
class Pool final : public Executor, public services::Database {
 public:
  Pool(boost::asio::any_io_executor executor, PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  Task<QueryResult> Execute(const Statement& statement, std::vector<Param> params) override;
  Task<PooledConnection> Acquire();
  Task<std::unique_ptr<services::Transaction>> Begin() override;
  Task<Transaction> BeginTransaction();
  // Throws PgError when the server cannot be reached.
  Task<void> Ping();

  std::size_t idle_count() const;
  std::size_t open_count() const;
  // Statements run through this pool so far (BEGIN/COMMIT not counted): lets tests prove that a
  // request costs a constant number of queries.
  std::uint64_t statements_executed() const;

 private:
  friend class PooledConnection;
  struct Waiter;
  void Return(std::unique_ptr<Connection> conn);
  void Drop(std::unique_ptr<Connection> conn);
  Task<std::unique_ptr<Connection>> Open();

  boost::asio::any_io_executor executor_;
  PoolOptions options_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::deque<std::shared_ptr<Waiter>> waiters_;
  std::size_t open_ = 0;
  std::uint64_t statements_executed_ = 0;
  std::shared_ptr<bool> alive_;
};

}  // namespace market::pg
