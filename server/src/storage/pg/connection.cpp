#include "storage/pg/connection.hpp"

#include <poll.h>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

namespace market::pg {
namespace {

namespace asio = boost::asio;
using asio::experimental::awaitable_operators::operator||;
using Descriptor = asio::posix::stream_descriptor;

// libpq messages end in a newline and continue on tab-indented lines; logs want one line.
std::string OneLine(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Notices (e.g. "relation already exists, skipping") would otherwise go to stderr.
void IgnoreNotice(void*, const char*) {}

bool IsConnectionSqlstate(std::string_view sqlstate) {
  // Class 08 is "connection exception"; 57P01..57P03 mean the server is shutting down, crashed,
  // or is not accepting connections yet.
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

using Settings = std::vector<std::pair<std::string, std::string>>;

Settings ConnectionSettings(const PoolOptions& options) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.conninfo.c_str(), &error);
  if (parsed == nullptr) {
    std::string message = error != nullptr ? OneLine(error) : "out of memory";
    PQfreemem(error);
    throw PgError("invalid connection string: " + message, "", "", false);
  }
  Settings settings;
  std::string server_options;
  for (PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    if (std::string_view(option->keyword) == "options") {
      server_options = option->val;
    } else {
      settings.emplace_back(option->keyword, option->val);
    }
  }
  PQconninfoFree(parsed);

  auto set_default = [&settings](std::string key, std::string value) {
    auto same_key = [&key](const auto& setting) { return setting.first == key; };
    if (std::none_of(settings.begin(), settings.end(), same_key)) {
      settings.emplace_back(std::move(key), std::move(value));
    }
  };
  set_default("client_encoding", "UTF8");
  // A server host that vanishes without closing the socket is noticed within about a minute
  // instead of the kernel's two hours.
  set_default("keepalives_idle", "30");
  set_default("keepalives_interval", "10");
  set_default("keepalives_count", "3");

  // Sent in the startup packet, so a new connection costs no extra round trip. Appended last so
  // that the formats QueryResult parses cannot be overridden by the connection string.
  if (!server_options.empty()) server_options += ' ';
  server_options += "-c TimeZone=UTC -c DateStyle=ISO -c bytea_output=hex -c statement_timeout=" +
                    std::to_string(options.statement_timeout.count());
  settings.emplace_back("options", std::move(server_options));
  return settings;
}

// Marks the connection as in use for one operation: libpq allows one command at a time.
class BusyScope {
 public:
  explicit BusyScope(bool& busy) : busy_(busy) {
    if (busy_) throw std::logic_error("a pg connection is used by two operations at once");
    busy_ = true;
  }
  ~BusyScope() { busy_ = false; }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  bool& busy_;
};

std::vector<const char*> ParamValues(const std::vector<Param>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& param : params) values.push_back(param ? param->c_str() : nullptr);
  return values;
}

}  // namespace

Connection::Connection(boost::asio::any_io_executor executor, PGconn* conn)
    : conn_(conn), socket_(std::move(executor)) {}

Connection::~Connection() {
  // libpq owns the descriptor: it must leave the reactor before PQfinish closes it.
  if (socket_.is_open()) socket_.release();
  PQfinish(conn_);
}

Task<std::unique_ptr<Connection>> Connection::Open(boost::asio::any_io_executor executor,
                                                   const PoolOptions& options) {
  const Settings settings = ConnectionSettings(options);
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [key, value] : settings) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  PGconn* raw = PQconnectStartParams(keys.data(), values.data(), 0);
  if (raw == nullptr) throw PgError("could not allocate a pg connection", "", "", true);
  std::unique_ptr<Connection> conn(new Connection(executor, raw));
  if (PQstatus(raw) == CONNECTION_BAD) throw conn->Lost("could not connect");
  PQsetNoticeProcessor(raw, IgnoreNotice, nullptr);

  asio::steady_timer deadline(executor);
  deadline.expires_after(options.connect_timeout);
  // libpq may replace the socket between polls (another host, an SSL retry), possibly under the
  // same number, so it is re-registered after every step.
  conn->SyncSocket(true);
  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  while (polling != PGRES_POLLING_OK) {
    if (polling == PGRES_POLLING_FAILED) throw conn->Lost("could not connect");
    const bool reading = polling == PGRES_POLLING_READING;
    if (!conn->PollNow(reading ? POLLIN : POLLOUT)) {
      auto ready = conn->socket_.async_wait(
          reading ? Descriptor::wait_read : Descriptor::wait_write, asio::use_awaitable);
      std::variant<std::monostate, std::monostate> outcome;
      try {
        outcome = co_await (std::move(ready) || deadline.async_wait(asio::use_awaitable));
      } catch (const boost::system::system_error& e) {
        throw conn->Lost(std::string("could not connect: ") + e.what());
      }
      if (outcome.index() == 1) {
        throw PgError("could not connect: no answer within " +
                          std::to_string(options.connect_timeout.count()) + " ms",
                      "", "", true);
      }
    }
    polling = PQconnectPoll(raw);
    conn->SyncSocket(true);
  }
  if (PQsetnonblocking(raw, 1) != 0) throw conn->Lost("could not enter non-blocking mode");
  co_return conn;
}

bool Connection::IsPrepared(const Statement& statement) const {
  auto prepared = prepared_.find(statement.name);
  if (prepared == prepared_.end()) return false;
  if (prepared->second != statement.sql) {
    throw std::logic_error("two different statements are named " + prepared->first);
  }
  return true;
}

Task<QueryResult> Connection::Execute(const Statement& statement,
                                      const std::vector<Param>& params) {
  // A batch of one: Parse (on first use), Bind and Execute go out together.
  std::vector<Call> calls;
  calls.push_back(Call{statement, params});
  std::vector<QueryResult> results = co_await ExecuteAll(calls, false, false);
  co_return std::move(results.front());
}

Task<std::vector<QueryResult>> Connection::ExecuteAll(const std::vector<Call>& calls, bool begin,
                                                      bool commit) {
  BusyScope busy(busy_);
  if (!Usable()) throw Lost("connection is broken");
  if (calls.empty()) throw std::logic_error("an empty pipeline");
  // Which statements to prepare, decided before anything is sent: a name used for two SQL texts
  // is refused while the connection is still clean.
  std::vector<const Call*> to_prepare;  // first use on this connection, in order
  for (const Call& call : calls) {
    if (IsPrepared(call.statement)) continue;
    auto same_name = std::find_if(to_prepare.begin(), to_prepare.end(), [&](const Call* other) {
      return other->statement.name == call.statement.name;
    });
    if (same_name == to_prepare.end()) {
      to_prepare.push_back(&call);
    } else if ((*same_name)->statement.sql != call.statement.sql) {
      throw std::logic_error("two different statements are named " +
                             std::string(call.statement.name));
    }
  }

  // The commands, in order: BEGIN if asked, then each call's Parse (first use) and its Execute.
  // Which command is whose, to read the results back.
  std::vector<int> prepare_command(to_prepare.size(), -1);  // per entry of to_prepare
  std::vector<int> execute_command;                         // per call
  bool sent = PQenterPipelineMode(conn_) != 0;
  if (!sent) throw Lost("could not enter pipeline mode");
  int commands = 0;
  if (begin) {
    sent = PQsendQueryParams(conn_, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) != 0;
    ++commands;
  }
  for (const Call& call : calls) {
    const std::string name(call.statement.name);
    auto parse = std::find(to_prepare.begin(), to_prepare.end(), &call);
    if (parse != to_prepare.end()) {
      const std::string sql(call.statement.sql);
      sent = sent && PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr) != 0;
      prepare_command[static_cast<std::size_t>(parse - to_prepare.begin())] = commands++;
    }
    const std::vector<const char*> values = ParamValues(call.params);
    sent = sent && PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                       values.data(), nullptr, nullptr, 0) != 0;
    execute_command.push_back(commands++);
  }
  const int commit_command = commit ? commands++ : -1;
  if (commit) {
    sent =
        sent && PQsendQueryParams(conn_, "COMMIT", 0, nullptr, nullptr, nullptr, nullptr, 0) != 0;
  }
  sent = sent && PQpipelineSync(conn_) != 0;
  SyncSocket();
  if (!sent) throw Lost("could not send");

  PipelineResults done = co_await FinishPipeline(commands);
  if (PQexitPipelineMode(conn_) == 0) MarkBroken();
  // Prepared in the pipeline, a statement stays prepared whatever came after: it is not
  // transactional.
  for (std::size_t i = 0; i < to_prepare.size(); ++i) {
    if (done.results[static_cast<std::size_t>(prepare_command[i])]) {
      prepared_.emplace(std::string(to_prepare[i]->statement.name),
                        std::string(to_prepare[i]->statement.sql));
    }
  }
  if (done.error) {
    // Named after the statement whose Parse or Execute failed (BEGIN and COMMIT have no name).
    std::string_view context = done.error_command == commit_command ? "COMMIT" : "BEGIN";
    for (std::size_t i = 0; i < to_prepare.size(); ++i) {
      if (prepare_command[i] == done.error_command) context = to_prepare[i]->statement.name;
    }
    for (std::size_t i = 0; i < calls.size(); ++i) {
      if (execute_command[i] == done.error_command) context = calls[i].statement.name;
    }
    throw ErrorFrom(done.error.get(), context, false);
  }
  if (commit) {
    const ResultPtr& committed = done.results[static_cast<std::size_t>(commit_command)];
    if (!committed || std::string_view(PQcmdStatus(committed.get())) != "COMMIT") {
      throw PgError("transaction had failed and was rolled back instead of committed", "25P02", "",
                    false);
    }
  }
  std::vector<QueryResult> out;
  out.reserve(calls.size());
  for (int command : execute_command) {
    ResultPtr& res = done.results[static_cast<std::size_t>(command)];
    if (!res) throw Lost("no result");
    out.emplace_back(res.release());
  }
  co_return out;
}

Task<QueryResult> Connection::ExecuteScript(std::string_view sql) {
  ResultPtr res = co_await Simple(sql);
  co_return QueryResult(res.release());
}

Task<void> Connection::Commit() {
  ResultPtr res = co_await Simple("COMMIT");
  if (std::string_view(PQcmdStatus(res.get())) != "COMMIT") {
    throw PgError("transaction had failed and was rolled back instead of committed", "25P02", "",
                  false);
  }
}

Task<ResultPtr> Connection::Simple(std::string_view sql) {
  BusyScope busy(busy_);
  if (!Usable()) throw Lost("connection is broken");
  const std::string text(sql);
  const int sent = PQsendQuery(conn_, text.c_str());
  SyncSocket();
  if (sent == 0) throw Lost("could not send");
  co_return co_await Finish("script");
}

PGTransactionStatusType Connection::TransactionStatus() const { return PQtransactionStatus(conn_); }

bool Connection::Usable() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }

bool Connection::CheckIdle() {
  // A server that terminated this session sent an error and then EOF: the first read takes the
  // message, a later one sees the EOF, so read a few times while there is something to read.
  for (int i = 0; i < 4 && Usable() && PollNow(POLLIN); ++i) {
    const int ok = PQconsumeInput(conn_);
    SyncSocket();
    if (ok == 0) MarkBroken();
    while (PGnotify* notify = PQnotifies(conn_)) PQfreemem(notify);
  }
  return Usable() && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

Task<ResultPtr> Connection::Finish(std::string_view context) {
  co_await Flush();
  ResultPtr last;
  ResultPtr error;
  for (;;) {
    try {
      co_await ReadyToRead();
    } catch (const PgError&) {
      // Keep the server's own reason (e.g. "terminating connection due to administrator
      // command") when it arrived before the socket closed.
      if (error) throw ErrorFrom(error.get(), context, true);
      throw;
    }
    ResultPtr res(PQgetResult(conn_));
    SyncSocket();
    if (!res) break;
    if (Keep(res, error)) last = std::move(res);
  }
  if (error) throw ErrorFrom(error.get(), context, false);
  if (!last) throw Lost("no result");
  co_return last;
}

bool Connection::Keep(ResultPtr& res, ResultPtr& error) {
  switch (PQresultStatus(res.get())) {
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
      MarkBroken();
      throw std::logic_error("COPY is not supported by the pg connection");
    case PGRES_FATAL_ERROR:
    case PGRES_NONFATAL_ERROR:
    case PGRES_BAD_RESPONSE:
      if (!error) error = std::move(res);
      return false;
    case PGRES_PIPELINE_ABORTED:
      return false;
    default:
      return true;
  }
}

Task<Connection::PipelineResults> Connection::FinishPipeline(int queries) {
  co_await Flush();
  PipelineResults out;
  out.results.resize(static_cast<std::size_t>(queries));
  // Each command's results end with a null result; the sync's own result ends the pipeline.
  for (int query = 0;;) {
    co_await ReadyToRead();
    ResultPtr res(PQgetResult(conn_));
    SyncSocket();
    if (!res) {
      ++query;
      continue;
    }
    if (PQresultStatus(res.get()) == PGRES_PIPELINE_SYNC) break;
    if (!Keep(res, out.error)) {
      if (out.error && out.error_command < 0) out.error_command = query;
      continue;
    }
    if (query >= queries) throw Lost("more results than commands in a pipeline");
    out.results[static_cast<std::size_t>(query)] = std::move(res);
  }
  co_return out;
}

Task<void> Connection::ReadyToRead() {
  while (PQisBusy(conn_) != 0) {
    co_await WaitReadable();
    const int ok = PQconsumeInput(conn_);
    SyncSocket();
    if (ok == 0) throw Lost("could not receive");
  }
}

Task<void> Connection::Flush() {
  for (;;) {
    const int pending = PQflush(conn_);
    SyncSocket();
    if (pending == 0) co_return;
    if (pending < 0) throw Lost("could not send");
    if (!PollNow(POLLIN | POLLOUT)) {
      try {
        co_await (socket_.async_wait(Descriptor::wait_read, asio::use_awaitable) ||
                  socket_.async_wait(Descriptor::wait_write, asio::use_awaitable));
      } catch (const boost::system::system_error& e) {
        if (e.code() == asio::error::operation_aborted) {
          MarkBroken();
          throw;
        }
        throw Lost(e.what());
      }
    }
    // The server may be blocked sending to us (notices) until we read; libpq asks us to read
    // before flushing again.
    const int ok = PQconsumeInput(conn_);
    SyncSocket();
    if (ok == 0) throw Lost("could not receive");
  }
}

Task<void> Connection::WaitReadable() {
  // The reactor is edge-triggered and async_wait does not look before waiting: data that arrived
  // before this call (more than libpq read last time) would never wake us.
  if (PollNow(POLLIN)) co_return;
  auto [ec] =
      co_await socket_.async_wait(Descriptor::wait_read, asio::as_tuple(asio::use_awaitable));
  if (!ec) co_return;
  if (ec == asio::error::operation_aborted) {
    MarkBroken();
    throw boost::system::system_error(ec);
  }
  throw Lost(ec.message());
}

bool Connection::PollNow(short events) const {
  const int fd = PQsocket(conn_);
  // No socket: let the next libpq call report why.
  if (fd < 0) return true;
  pollfd entry{fd, events, 0};
  return ::poll(&entry, 1, 0) > 0;
}

void Connection::SyncSocket(bool force) {
  const int fd = PQsocket(conn_);
  if (!force && socket_.is_open() && socket_.native_handle() == fd) return;
  // libpq closed or replaced its socket: deregister at once, before the number can be reused.
  if (socket_.is_open()) socket_.release();
  if (fd >= 0) socket_.assign(fd);
}

PgError Connection::Lost(std::string_view what) {
  MarkBroken();
  std::string message(what);
  const std::string detail = OneLine(PQerrorMessage(conn_));
  if (!detail.empty()) message += ": " + detail;
  return PgError(std::move(message), "", "", true);
}

PgError Connection::ErrorFrom(const PGresult* res, std::string_view context, bool lost) {
  auto field = [res](int code) {
    const char* value = PQresultErrorField(res, code);
    return value != nullptr ? std::string(value) : std::string();
  };
  std::string sqlstate = field(PG_DIAG_SQLSTATE);
  std::string message = field(PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = OneLine(PQresultErrorMessage(res));
  if (lost || PQstatus(conn_) == CONNECTION_BAD || IsConnectionSqlstate(sqlstate)) {
    lost = true;
    MarkBroken();
  }
  return PgError(std::string(context) + ": " + message, std::move(sqlstate),
                 field(PG_DIAG_CONSTRAINT_NAME), lost);
}

}  // namespace market::pg
