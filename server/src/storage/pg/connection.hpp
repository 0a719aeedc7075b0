#pragma once

#include <libpq-fe.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "common/task.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

struct ResultDeleter {
  void operator()(PGresult* res) const { PQclear(res); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// One non-blocking libpq connection driven by an Asio executor. Used from that executor's thread
// only. Any failure that leaves the protocol state unknown (a lost socket, an interrupted wait)
// marks it broken, and the pool then drops it instead of reusing it.
class Connection {
 public:
  // Connects, waiting at most options.connect_timeout. Throws PgError (connection_lost) on failure.
  static Task<std::unique_ptr<Connection>> Open(boost::asio::any_io_executor executor,
                                                const PoolOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Prepares `statement` on first use on this connection (in the same round trip), then executes
  // it with text params.
  Task<QueryResult> Execute(const Statement& statement, const std::vector<Param>& params);
  // The calls in order, in one round trip (pipeline mode), after a BEGIN if `begin` and followed
  // by a COMMIT if `commit`: each statement starts once the one before it has finished, with a
  // snapshot of its own. The first failure skips the rest (the COMMIT too) and is thrown, named
  // after its statement; the results otherwise.
  Task<std::vector<QueryResult>> ExecuteAll(const std::vector<Call>& calls, bool begin,
                                            bool commit);
  // Simple protocol: `sql` may hold several statements.
  Task<QueryResult> ExecuteScript(std::string_view sql);
  // Throws when the server ended the transaction with a rollback instead (it had failed), which
  // PostgreSQL reports as success.
  Task<void> Commit();

  PGTransactionStatusType TransactionStatus() const;
  bool Usable() const;
  void MarkBroken() { broken_ = true; }
  // Reads what the server sent while the connection sat idle (a termination notice, EOF); false
  // when the connection is no longer fit to hand out.
  bool CheckIdle();

  void AttachTo(std::shared_ptr<bool> pool_alive) { pool_alive_ = std::move(pool_alive); }
  bool PoolAlive() const { return pool_alive_ && *pool_alive_; }

 private:
  Connection(boost::asio::any_io_executor executor, PGconn* conn);

  Task<ResultPtr> Simple(std::string_view sql);
  Task<ResultPtr> Finish(std::string_view context);
  struct PipelineResults {
    // One per command: its last result, or empty when it failed or was skipped because an
    // earlier one failed.
    std::vector<ResultPtr> results;
    ResultPtr error;  // the first failure
    int error_command = -1;
  };
  // Reads the results of `queries` commands sent in pipeline mode and of the sync that ends them.
  // Throws only when the connection fails; a failed command is reported in `error`.
  Task<PipelineResults> FinishPipeline(int queries);
  // Sorts a result: true for a command's result, false for an error (the first one kept in
  // `error`) or a command skipped after an earlier error. Throws on COPY.
  bool Keep(ResultPtr& res, ResultPtr& error);
  Task<void> ReadyToRead();
  // Whether a statement of this name is prepared on this connection; throws std::logic_error if
  // it was prepared with another SQL text.
  bool IsPrepared(const Statement& statement) const;
  Task<void> Flush();
  Task<void> WaitReadable();
  bool PollNow(short events) const;
  void SyncSocket(bool force = false);
  PgError Lost(std::string_view what);
  PgError ErrorFrom(const PGresult* res, std::string_view context, bool lost);

  PGconn* conn_;
  boost::asio::posix::stream_descriptor socket_;
  // Statement name -> its SQL, to catch two statements sharing a name.
  std::map<std::string, std::string, std::less<>> prepared_;
  bool broken_ = false;
  bool busy_ = false;
  std::shared_ptr<bool> pool_alive_;
};

}  // namespace market::pg
