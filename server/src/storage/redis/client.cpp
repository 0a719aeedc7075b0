#include "storage/redis/client.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

#include <fmt/format.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "storage/redis/asio_adapter.hpp"

namespace market::redis {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kAwaitable = asio::as_tuple(asio::use_awaitable);

// After a failed connect, commands fail fast for this long instead of each opening a new
// connection to a Redis that is down: under load that would be one attempt per request.
constexpr std::chrono::milliseconds kReconnectBackoff{100};

// One command waiting for its reply. The hiredis callback owns a reference, so a reply that
// arrives after the waiting coroutine gave up (timeout) lands here and is dropped.
struct Request {
  explicit Request(asio::any_io_executor executor) : done_signal(std::move(executor)) {}
  asio::steady_timer done_signal;
  bool done = false;
  std::optional<Reply> reply;  // empty when the connection failed
  std::string error;
};

// One hiredis connection. It must outlive its context: hiredis calls back with ac->data pointing
// here until redisFree.
struct Connection {
  explicit Connection(asio::any_io_executor executor) : connect_signal(std::move(executor)) {}
  redisAsyncContext* context() const { return adapter ? adapter->context() : nullptr; }

  std::shared_ptr<AsioAdapter> adapter;
  asio::steady_timer connect_signal;
  bool connected = false;  // TCP connect succeeded
  bool ready = false;      // connected and the database selected: usable for commands
  int in_flight = 0;
  std::uint64_t replies = 0;
  std::string error;
};

// A connect attempt that every caller arriving meanwhile waits for, so that only one is in
// flight at a time.
struct Attempt {
  explicit Attempt(asio::any_io_executor executor) : finished(std::move(executor)) {
    finished.expires_at(Clock::time_point::max());
  }
  asio::steady_timer finished;
  bool done = false;
  std::string error;  // empty on success
};

Reply ToReply(const redisReply& raw) {
  Reply reply;
  switch (raw.type) {
    case REDIS_REPLY_STRING:
      reply.type = Reply::Type::kString;
      reply.str.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_STATUS:
      reply.type = Reply::Type::kStatus;
      reply.str.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_ERROR:
      reply.type = Reply::Type::kError;
      reply.str.assign(raw.str, raw.len);
      break;
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::kInteger;
      reply.integer = raw.integer;
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::kArray;
      reply.elements.reserve(raw.elements);
      for (std::size_t i = 0; i < raw.elements; ++i) {
        reply.elements.push_back(ToReply(*raw.element[i]));
      }
      break;
    default:
      reply.type = Reply::Type::kNil;
      break;
  }
  return reply;
}

// Reads the inner context: hiredis copies the error to ac->err only after onConnect has run.
std::string ContextError(const redisAsyncContext* context, std::string_view fallback) {
  if (context->c.err != 0 && context->c.errstr[0] != '\0') return context->c.errstr;
  return std::string(fallback);
}

// The hiredis callbacks run inside redisAsyncHandleRead/Write or redisAsyncFree: they only record
// the outcome and wake the waiting coroutine (timer cancellation posts its resumption), never
// call back into hiredis. Nothing may throw through them.
void OnReply(redisAsyncContext* context, void* raw_reply, void* private_data) {
  std::unique_ptr<std::shared_ptr<Request>> holder(
      static_cast<std::shared_ptr<Request>*>(private_data));
  Request& request = **holder;
  auto* connection = static_cast<Connection*>(context->data);
  --connection->in_flight;
  if (raw_reply != nullptr) ++connection->replies;
  try {
    if (raw_reply != nullptr) {
      request.reply = ToReply(*static_cast<redisReply*>(raw_reply));
    } else {
      request.error = ContextError(context, "connection closed");
    }
  } catch (const std::exception& e) {
    request.reply.reset();
    request.error = e.what();
  }
  request.done = true;
  request.done_signal.cancel();
}

void OnConnect(const redisAsyncContext* context, int status) {
  auto* connection = static_cast<Connection*>(context->data);
  if (status == REDIS_OK) {
    connection->connected = true;
  } else {
    connection->error = ContextError(context, "connect failed");
  }
  connection->connect_signal.cancel();
}

void OnDisconnect(const redisAsyncContext* context, int status) {
  auto* connection = static_cast<Connection*>(context->data);
  if (connection->ready && status != REDIS_OK) {
    spdlog::warn("redis: connection lost: {}", ContextError(context, "unknown error"));
  }
  connection->connected = false;
  connection->ready = false;
}

// Our own wake-ups cancel the timer only after setting the flag being waited for; an abort
// without it comes from the caller (e.g. `co_await (command || timeout)`), which should not have
// to wait out the deadline. An abandoned command's reply is dropped like a late one.
void ThrowIfCallerCancelled(const boost::system::error_code& ec, bool woken) {
  if (ec == asio::error::operation_aborted && !woken) throw boost::system::system_error(ec);
}

// True when the server has closed an idle connection (restart, idle timeout, CLIENT KILL) but
// the event loop has not processed the close yet: reusing it would fail the next command.
bool PeerClosed(const redisAsyncContext* context) {
  char byte;
  const ssize_t n = ::recv(context->c.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  return false;
}

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor executor, ClientOptions options)
      : executor(std::move(executor)), options(std::move(options)) {}
  ~Impl() { Close(); }

  Task<Reply> Execute(const std::vector<std::string>& argv);
  Task<std::shared_ptr<Connection>> Connected();
  static Task<void> RunAttempt(std::shared_ptr<Impl> self, std::shared_ptr<Attempt> attempt);
  Task<void> Connect(Clock::time_point deadline);
  Task<std::vector<std::string>> Resolve(Clock::time_point deadline);
  Task<void> ConnectTo(const std::string& address, Clock::time_point deadline);
  Task<Reply> Send(std::shared_ptr<Connection> connection, const std::vector<std::string>& argv,
                   Clock::time_point deadline);
  void Drop(Connection& connection);
  void Close();

  asio::any_io_executor executor;
  ClientOptions options;
  std::shared_ptr<Connection> connection;
  std::shared_ptr<Attempt> attempt;
  Clock::time_point retry_not_before{};
  std::string last_error;
  bool closed = false;
};

void Client::Impl::Drop(Connection& dropped) {
  dropped.ready = false;
  // Fails the commands still waiting on it with Unavailable.
  if (auto* context = dropped.context()) redisAsyncFree(context);
  dropped.connect_signal.cancel();
}

void Client::Impl::Close() {
  closed = true;
  if (connection) Drop(*connection);
}

Task<Reply> Client::Impl::Execute(const std::vector<std::string>& argv) {
  auto ready = co_await Connected();
  co_return co_await Send(std::move(ready), argv, Clock::now() + options.command_timeout);
}

Task<std::shared_ptr<Connection>> Client::Impl::Connected() {
  if (closed) throw Unavailable("redis: client is closed");
  if (connection && connection->ready && connection->context() != nullptr) {
    // Checking only idle connections keeps the extra syscall off the pipelined path; a busy
    // connection has a read pending that notices the close anyway.
    if (connection->in_flight > 0 || !PeerClosed(connection->context())) co_return connection;
    Drop(*connection);
  }
  if (!attempt) {
    if (Clock::now() < retry_not_before) throw Unavailable(last_error);
    attempt = std::make_shared<Attempt>(executor);
    asio::co_spawn(executor, RunAttempt(shared_from_this(), attempt), asio::detached);
  }
  auto waited = attempt;
  while (!waited->done) {
    auto [ec] = co_await waited->finished.async_wait(kAwaitable);
    ThrowIfCallerCancelled(ec, waited->done);
  }
  if (!waited->error.empty()) throw Unavailable(waited->error);
  if (closed || !connection || !connection->ready || connection->context() == nullptr) {
    throw Unavailable("redis: connection lost");
  }
  co_return connection;
}

Task<void> Client::Impl::RunAttempt(std::shared_ptr<Impl> self, std::shared_ptr<Attempt> attempt) {
  std::string error;
  try {
    co_await self->Connect(Clock::now() + self->options.connect_timeout);
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (error.empty() && self->closed) error = "redis: client is closed";
  if (!error.empty()) {
    self->retry_not_before = Clock::now() + kReconnectBackoff;
    self->last_error = error;
  }
  self->attempt.reset();
  attempt->error = std::move(error);
  attempt->done = true;
  attempt->finished.cancel();
}

Task<void> Client::Impl::Connect(Clock::time_point deadline) {
  std::string error = "redis: no address for " + options.host;
  const std::vector<std::string> addresses = co_await Resolve(deadline);
  for (const auto& address : addresses) {
    if (closed) break;
    try {
      co_await ConnectTo(address, deadline);
      co_return;
    } catch (const Unavailable& e) {
      error = e.what();
    }
    if (Clock::now() >= deadline) break;
  }
  throw Unavailable(error);
}

// hiredis resolves names with a blocking getaddrinfo inside redisAsyncConnect, which would stall
// the io thread: names are resolved on Asio first and hiredis only sees numeric addresses.
Task<std::vector<std::string>> Client::Impl::Resolve(Clock::time_point deadline) {
  boost::system::error_code ec;
  asio::ip::make_address(options.host, ec);
  if (!ec) co_return std::vector<std::string>{options.host};

  using namespace asio::experimental::awaitable_operators;
  asio::ip::tcp::resolver resolver(executor);
  asio::steady_timer timer(executor, deadline);
  auto outcome =
      co_await (resolver.async_resolve(options.host, std::to_string(options.port), kAwaitable) ||
                timer.async_wait(kAwaitable));
  if (outcome.index() == 1) throw Unavailable("redis: resolving " + options.host + " timed out");
  auto [resolve_error, results] = std::get<0>(std::move(outcome));
  if (resolve_error) {
    throw Unavailable("redis: cannot resolve " + options.host + ": " + resolve_error.message());
  }
  std::vector<std::string> addresses;
  for (const auto& entry : results) addresses.push_back(entry.endpoint().address().to_string());
  co_return addresses;
}

Task<void> Client::Impl::ConnectTo(const std::string& address, Clock::time_point deadline) {
  const std::string where = fmt::format("{}:{}", address, options.port);
  redisAsyncContext* context = redisAsyncConnect(address.c_str(), options.port);
  if (context == nullptr) throw Unavailable("redis: cannot allocate a connection");
  if (context->err != 0) {
    std::string error = ContextError(context, "connect failed");
    redisAsyncFree(context);
    throw Unavailable(fmt::format("redis: connect to {}: {}", where, error));
  }

  // The previous connection is dead by now (an attempt only starts when it is), so replacing it
  // cannot free a Connection that a live context still points to.
  if (connection) Drop(*connection);
  auto fresh = std::make_shared<Connection>(executor);
  try {
    fresh->adapter = AsioAdapter::Attach(executor, context);
  } catch (const std::exception& e) {
    redisAsyncFree(context);
    throw Unavailable(fmt::format("redis: connect to {}: {}", where, e.what()));
  }
  connection = fresh;
  context->data = fresh.get();
  redisAsyncSetConnectCallback(context, &OnConnect);
  redisAsyncSetDisconnectCallback(context, &OnDisconnect);
  // hiredis learns the outcome of the non-blocking connect on the first write readiness, and
  // 0.14 only asks for it once a command is queued; the hook is idempotent.
  context->ev.addWrite(context->ev.data);

  fresh->connect_signal.expires_at(deadline);
  while (!fresh->connected && fresh->error.empty() && fresh->context() != nullptr &&
         Clock::now() < deadline) {
    co_await fresh->connect_signal.async_wait(kAwaitable);
  }
  if (!fresh->connected || fresh->context() == nullptr) {
    std::string error = closed                  ? std::string("client is closed")
                        : !fresh->error.empty() ? fresh->error
                        : fresh->connected      ? std::string("connection closed")
                                                : std::string("connect timed out");
    Drop(*fresh);
    throw Unavailable(fmt::format("redis: connect to {}: {}", where, error));
  }
  // Half-open connections (a Redis host that vanished) are otherwise only noticed by timeouts.
  redisEnableKeepAlive(&fresh->context()->c);

  if (options.db != 0) {
    const std::vector<std::string> select = {"SELECT", std::to_string(options.db)};
    Reply selected;
    try {
      selected = co_await Send(fresh, select, deadline);
    } catch (const Unavailable&) {
      Drop(*fresh);
      throw;
    }
    if (selected.type == Reply::Type::kError) {
      Drop(*fresh);
      throw Unavailable(fmt::format("redis: SELECT {} on {}: {}", options.db, where, selected.str));
    }
  }
  if (fresh->context() == nullptr) throw Unavailable("redis: connection lost after connect");
  fresh->ready = true;
}

Task<Reply> Client::Impl::Send(std::shared_ptr<Connection> target,
                               const std::vector<std::string>& argv, Clock::time_point deadline) {
  if (argv.empty()) throw std::invalid_argument("redis: empty command");
  redisAsyncContext* context = target->context();
  if (context == nullptr) throw Unavailable("redis: connection lost");
  std::vector<const char*> args;
  std::vector<std::size_t> lengths;
  args.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const auto& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }

  auto request = std::make_shared<Request>(executor);
  request->done_signal.expires_at(deadline);
  auto holder = std::make_unique<std::shared_ptr<Request>>(request);
  if (redisAsyncCommandArgv(context, &OnReply, holder.get(), static_cast<int>(args.size()),
                            args.data(), lengths.data()) != REDIS_OK) {
    throw Unavailable("redis: connection is closing");
  }
  holder.release();
  ++target->in_flight;
  const std::uint64_t replies_before = target->replies;

  while (!request->done && Clock::now() < deadline) {
    auto [ec] = co_await request->done_signal.async_wait(kAwaitable);
    ThrowIfCallerCancelled(ec, request->done);
  }
  if (!request->done) {
    // No reply at all for a whole timeout means the connection is stuck (a blocking command at
    // the head of the pipeline, a host that vanished): replace it, failing what is queued behind.
    // A connection that is merely slow stays; the late reply lands in the abandoned Request.
    if (target->replies == replies_before) Drop(*target);
    throw Unavailable(fmt::format("redis: {} timed out", argv.empty() ? "" : argv.front()));
  }
  if (!request->reply) throw Unavailable("redis: " + request->error);
  co_return std::move(*request->reply);
}

Script::Script(std::string source) : source_(std::move(source)) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source_.data()), source_.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  sha1_.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char byte : digest) {
    sha1_.push_back(kHex[byte >> 4]);
    sha1_.push_back(kHex[byte & 0x0f]);
  }
}

namespace {

int ParseNumber(std::string_view text, int max, const std::string& url, std::string_view what) {
  int value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0 ||
      value > max) {
    throw std::invalid_argument(
        fmt::format("invalid Redis URL '{}': bad {} '{}'", url, what, text));
  }
  return value;
}

}  // namespace

ClientOptions ParseRedisUrl(const std::string& url) {
  auto fail = [&url](std::string_view why) {
    return std::invalid_argument(fmt::format("invalid Redis URL '{}': {}", url, why));
  };
  constexpr std::string_view kScheme = "redis://";
  std::string_view rest = url;
  if (!rest.starts_with(kScheme)) throw fail("expected redis://host[:port][/db]");
  rest.remove_prefix(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    throw fail("query and fragment are not supported");
  }
  if (rest.find('@') != std::string_view::npos) throw fail("credentials are not supported");

  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);

  ClientOptions options;
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw fail("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) throw fail("unexpected text after the IPv6 address");
      port = after.substr(1);
      if (port.empty()) throw fail("empty port");
    }
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) throw fail("empty port");
  }
  if (host.empty()) throw fail("missing host");
  options.host = std::string(host);
  if (!port.empty()) {
    options.port = ParseNumber(port, 65535, url, "port");
    if (options.port == 0) throw fail("port 0");
  }
  if (!path.empty()) options.db = ParseNumber(path, 1 << 20, url, "database number");
  return options;
}

Client::Client(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

// Coroutines still inside a command keep the Impl alive; closing fails them with Unavailable.
Client::~Client() { impl_->Close(); }

Task<Reply> Client::Command(std::vector<std::string> argv) {
  auto impl = impl_;
  co_return co_await impl->Execute(argv);
}

Task<Reply> Client::Eval(const Script& script, std::vector<std::string> keys,
                         std::vector<std::string> args) {
  auto impl = impl_;
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha1());
  argv.push_back(std::to_string(keys.size()));
  for (auto& key : keys) argv.push_back(std::move(key));
  for (auto& arg : args) argv.push_back(std::move(arg));
  Reply reply = co_await impl->Execute(argv);
  // The script cache is empty after a Redis restart or SCRIPT FLUSH: EVAL loads it again.
  if (reply.type == Reply::Type::kError && reply.str.starts_with("NOSCRIPT")) {
    argv[0] = "EVAL";
    argv[1] = script.source();
    reply = co_await impl->Execute(argv);
  }
  co_return reply;
}

Task<void> Client::Ping() {
  auto impl = impl_;
  const std::vector<std::string> ping = {"PING"};
  Reply reply = co_await impl->Execute(ping);
  if (reply.type == Reply::Type::kError) throw Unavailable("redis: PING: " + reply.str);
}

}  // namespace market::redis
