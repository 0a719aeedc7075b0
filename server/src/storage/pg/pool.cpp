#include "storage/pg/pool.hpp"
#include "storage/pg/params.hpp"

#include <exception>
#include <stdexcept>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "storage/pg/connection.hpp"

namespace market::pg {
namespace {

namespace asio = boost::asio;

constexpr Statement kPing{"market_ping", "SELECT 1"};

// Ends the transaction a connection came back in, then returns it through a PooledConnection,
// which drops it if the rollback failed and forgets it if the pool is gone by then.
Task<void> RollBackAndReturn(Pool* pool, std::unique_ptr<Connection> conn) {
  try {
    co_await conn->ExecuteScript("ROLLBACK");
  } catch (...) {
    conn->MarkBroken();
  }
  PooledConnection returned(pool, std::move(conn));
}

}  // namespace

struct Pool::Waiter {
  explicit Waiter(const boost::asio::any_io_executor& executor) : timer(executor) {}
  boost::asio::steady_timer timer;
  // Handed over by Return(); the timer is cancelled to wake the waiter.
  std::unique_ptr<Connection> conn;
  // A connection slot freed up: the waiter opens a connection itself.
  bool retry = false;
};

// Out of line: Connection is incomplete in the header.
PooledConnection::PooledConnection() = default;

PooledConnection::PooledConnection(Pool* pool, std::unique_ptr<Connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}

PooledConnection& PooledConnection::operator=(PooledConnection&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::exchange(other.pool_, nullptr);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

PooledConnection::~PooledConnection() { Release(); }

void PooledConnection::Release() {
  if (conn_ && pool_ != nullptr && conn_->PoolAlive()) pool_->Return(std::move(conn_));
  conn_.reset();
  pool_ = nullptr;
}

Task<QueryResult> PooledConnection::Execute(const Statement& statement, std::vector<Param> params) {
  if (!conn_) throw std::logic_error("pg connection used after release");
  if (pool_ != nullptr) ++pool_->statements_executed_;
  co_return co_await conn_->Execute(statement, params);
}

Task<std::vector<QueryResult>> PooledConnection::ExecuteAll(std::vector<Call> calls, bool begin,
                                                            bool commit) {
  if (!conn_) throw std::logic_error("pg connection used after release");
  if (pool_ != nullptr) pool_->statements_executed_ += calls.size();
  co_return co_await conn_->ExecuteAll(calls, begin, commit);
}

Task<void> PooledConnection::ExecuteScript(std::string_view sql) {
  if (!conn_) throw std::logic_error("pg connection used after release");
  co_await conn_->ExecuteScript(sql);
}

Task<QueryResult> Transaction::Execute(const Statement& statement, std::vector<Param> params) {
  if (done_) throw std::logic_error("pg transaction used after commit");
  if (begun_) co_return co_await conn_.Execute(statement, std::move(params));
  std::vector<Call> calls;
  calls.push_back(Call{statement, std::move(params)});
  std::vector<QueryResult> results = co_await ExecuteAll(std::move(calls));
  co_return std::move(results.front());
}

Task<std::vector<QueryResult>> Transaction::ExecuteAll(std::vector<Call> calls) {
  if (done_) throw std::logic_error("pg transaction used after commit");
  // BEGIN goes out with the first statements. Whatever happens to them, the transaction may have
  // begun: the pool rolls back what is left open.
  const bool begin = !begun_;
  begun_ = true;
  co_return co_await conn_.ExecuteAll(std::move(calls), begin, false);
}

Task<std::vector<QueryResult>> Transaction::ExecuteAllAndCommit(std::vector<Call> calls) {
  if (done_ || !conn_.conn_) throw std::logic_error("pg transaction used after commit");
  done_ = true;
  const bool begin = !begun_;
  begun_ = true;
  std::vector<QueryResult> results;
  std::exception_ptr failure;
  try {
    results = co_await conn_.ExecuteAll(std::move(calls), begin, true);
  } catch (...) {
    failure = std::current_exception();
  }
  // Over either way: a failed one goes back to the pool, which rolls it back.
  conn_ = PooledConnection();
  if (failure) std::rethrow_exception(failure);
  co_return results;
}

Task<void> Transaction::Commit() {
  if (done_ || !conn_.conn_) throw std::logic_error("pg transaction committed twice");
  done_ = true;
  std::exception_ptr failure;
  try {
    if (begun_) co_await conn_.conn_->Commit();
  } catch (...) {
    failure = std::current_exception();
  }
  // Whether or not it committed, the transaction is over: the connection goes back now rather
  // than when the scope ends, which may be after slow non-database work.
  conn_ = PooledConnection();
  if (failure) std::rethrow_exception(failure);
}

Transaction& AsPg(services::Transaction& tx) { return dynamic_cast<Transaction&>(tx); }

Pool::Pool(boost::asio::any_io_executor executor, PoolOptions options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      alive_(std::make_shared<bool>(true)) {
  if (options_.max_size == 0) throw std::invalid_argument("pg pool max_size must be positive");
}

Pool::~Pool() { *alive_ = false; }

Task<QueryResult> Pool::Execute(const Statement& statement, std::vector<Param> params) {
  PooledConnection conn = co_await Acquire();
  co_return co_await conn.Execute(statement, std::move(params));
}

Task<PooledConnection> Pool::Acquire() {
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      // Most recently used first: the likeliest to be alive and warm.
      if (conn->CheckIdle()) co_return PooledConnection(this, std::move(conn));
      conn.reset();
      --open_;
    }

    if (open_ < options_.max_size) {
      ++open_;  // Claimed before suspending, so that concurrent acquirers respect max_size.
      std::unique_ptr<Connection> conn;
      std::exception_ptr failure;
      try {
        conn = co_await Open();
      } catch (...) {
        failure = std::current_exception();
      }
      if (failure) {
        Drop(nullptr);
        std::rethrow_exception(failure);
      }
      co_return PooledConnection(this, std::move(conn));
    }

    auto waiter = std::make_shared<Waiter>(executor_);
    waiter->timer.expires_at(deadline);
    waiters_.push_back(waiter);
    auto [ec] =
        co_await waiter->timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (waiter->conn) co_return PooledConnection(this, std::move(waiter->conn));
    if (waiter->retry) continue;
    std::erase(waiters_, waiter);
    if (ec == boost::asio::error::operation_aborted) throw boost::system::system_error(ec);
    throw PgError("pg pool exhausted: no connection free within " +
                      std::to_string(options_.acquire_timeout.count()) + " ms",
                  "", "", true);
  }
}

Task<std::unique_ptr<services::Transaction>> Pool::Begin() {
  Transaction tx = co_await BeginTransaction();
  co_return std::make_unique<Transaction>(std::move(tx));
}

Task<Transaction> Pool::BeginTransaction() {
  PooledConnection conn = co_await Acquire();
  co_return Transaction(std::move(conn));
}

Task<void> Pool::Ping() { co_await Execute(kPing, NoParams()); }

std::size_t Pool::idle_count() const { return idle_.size(); }

std::size_t Pool::open_count() const { return open_; }

std::uint64_t Pool::statements_executed() const { return statements_executed_; }

void Pool::Return(std::unique_ptr<Connection> conn) {
  if (!conn->Usable()) return Drop(std::move(conn));
  switch (conn->TransactionStatus()) {
    case PQTRANS_IDLE:
      break;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
      // A transaction scope ended without commit; its destructor cannot wait for the rollback,
      // so the connection rejoins the pool once it is done.
      boost::asio::co_spawn(executor_, RollBackAndReturn(this, std::move(conn)),
                            boost::asio::detached);
      return;
    default:
      // A query was interrupted mid-flight: the protocol state is unknown.
      return Drop(std::move(conn));
  }
  if (!waiters_.empty()) {
    std::shared_ptr<Waiter> waiter = std::move(waiters_.front());
    waiters_.pop_front();
    waiter->conn = std::move(conn);
    waiter->timer.cancel();
    return;
  }
  idle_.push_back(std::move(conn));
}

void Pool::Drop(std::unique_ptr<Connection> conn) {
  conn.reset();
  --open_;
  if (!waiters_.empty()) {
    std::shared_ptr<Waiter> waiter = std::move(waiters_.front());
    waiters_.pop_front();
    waiter->retry = true;
    waiter->timer.cancel();
  }
}

Task<std::unique_ptr<Connection>> Pool::Open() {
  std::unique_ptr<Connection> conn = co_await Connection::Open(executor_, options_);
  conn->AttachTo(alive_);
  co_return conn;
}

}  // namespace market::pg
