#include "http/server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <stdexcept>
#include <unordered_set>
#include <utility>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "http/middleware.hpp"
#include "http/percent_decode.hpp"

namespace market::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
using namespace std::chrono_literals;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// The first read of a request only has to show that one arrived; the parser reads the rest.
constexpr std::size_t kFirstReadSize = 1024;
// A slow reader of a large response (a web app bundle) deserves more than the read deadline.
constexpr std::chrono::seconds kMinWriteTimeout{30};
// After an error answer we keep reading what the client still sends, for a while, so that closing
// with unread data does not reset the connection before the client has read our answer.
// The byte cap is twice the default upload limit: a client refused with 413 for a 9 MiB upload
// must be able to finish sending it and read the answer (with 1 MiB it got EPIPE instead).
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kLingerBytes = 16 * 1024 * 1024;
constexpr std::chrono::milliseconds kAcceptBackoff{50};

std::shared_ptr<spdlog::logger> AccessLogger() {
  // One logger for all servers of the process; the magic static makes creation race-free.
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("access")) return existing;
    auto created = spdlog::stdout_logger_mt("access");
    created->set_pattern("%v");
    return created;
  }();
  return logger;
}

// Counts a connection from accept until its coroutine frame is gone, whether or not it ever ran,
// so that open_connections() never reads 0 while a socket is still open.
class OpenConnection {
 public:
  explicit OpenConnection(std::atomic<std::size_t>& count) : count_(&count) {
    count_->fetch_add(1);
  }
  OpenConnection(OpenConnection&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  OpenConnection& operator=(OpenConnection&&) = delete;
  ~OpenConnection() {
    if (count_ != nullptr) count_->fetch_sub(1);
  }

 private:
  std::atomic<std::size_t>* count_;
};

struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  // Waiting for the first byte of a request (or lingering): safe to close on drain.
  bool idle = false;
};

// What to answer to a request that could not be read; nothing when the connection is simply gone
// (peer closed, timed out, drained), where there is nobody to answer.
std::optional<Response> ReadErrorResponse(const beast::error_code& ec) {
  if (ec == bhttp::error::body_limit) {
    return ErrorResponse(MakeError(ErrorCode::kPayloadTooLarge, "Request body too large."));
  }
  if (ec == bhttp::error::header_limit) {
    Response response =
        ErrorResponse(MakeError(ErrorCode::kBadRequest, "Request header too large."));
    response.status = 431;
    return response;
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return std::nullopt;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return ErrorResponse(MakeError(ErrorCode::kBadRequest, "Malformed HTTP request."));
  }
  return std::nullopt;
}

void CopyHead(const bhttp::request<bhttp::string_body>& message, Request& request) {
  request.method = ParseMethod(message.method_string());
  request.target = std::string(message.target());
  request.headers.reserve(std::distance(message.begin(), message.end()));
  for (const auto& field : message) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    request.headers.emplace_back(std::move(name), std::string(field.value()));
  }
}

using RequestParser = bhttp::request_parser<bhttp::string_body>;

// The parser reads the header under the largest limit any route allows, because Beast checks a
// declared Content-Length against the limit as soon as the header ends; here, before any body
// byte is parsed, the route's own limit replaces it.
bool IsUpload(const ServerOptions& options, const RequestParser& parser) {
  if (!options.is_upload) return false;
  std::string_view target = parser.get().target();
  auto path = PercentDecode(target.substr(0, target.find('?')), false);
  return path && options.is_upload(*path);
}

beast::error_code ApplyRouteBodyLimit(const ServerOptions& options, RequestParser& parser) {
  std::size_t limit = IsUpload(options, parser) ? options.upload_body_limit : options.body_limit;
  if (auto length = parser.content_length(); length && *length > limit) {
    return bhttp::error::body_limit;
  }
  parser.body_limit(limit);
  return {};
}

bool IsFramingHeader(std::string_view name) {
  return beast::iequals(name, "Content-Length") || beast::iequals(name, "Transfer-Encoding") ||
         beast::iequals(name, "Connection");
}

// Bodiless by definition (RFC 9110 §6.4.1): no body and no Content-Length.
bool IsBodilessStatus(int status) { return status < 200 || status == 204 || status == 304; }

bhttp::response<bhttp::string_body> ToBeast(Response& response, unsigned version, bool head,
                                            bool keep_alive) {
  bhttp::response<bhttp::string_body> out;
  out.version(version);
  out.result(static_cast<unsigned>(response.status));
  for (auto& [name, value] : response.headers) {
    // Framing is ours: a handler cannot desynchronise the connection.
    if (IsFramingHeader(name)) continue;
    out.insert(name, value);
  }
  if (!response.content_type.empty()) out.set(bhttp::field::content_type, response.content_type);
  if (!IsBodilessStatus(response.status)) {
    // HEAD carries the Content-Length of the GET answer it stands for.
    out.content_length(response.body.size());
    if (!head) out.body() = std::move(response.body);
  }
  out.keep_alive(keep_alive);
  return out;
}

}  // namespace

struct Server::Impl {
  Impl(asio::io_context& io, const Router& router, ServerOptions options)
      : io(io), router(router), options(std::move(options)), acceptor(io) {
    if (this->options.access_log) access_logger = AccessLogger();
  }

  static Task<void> AcceptLoop(std::shared_ptr<Impl> self);
  static Task<void> Serve(std::shared_ptr<Impl> self, tcp::socket socket, OpenConnection counted);
  Task<void> RunConnection(Connection& connection);
  Task<void> Linger(Connection& connection);
  void Drain();

  asio::io_context& io;
  const Router& router;
  const ServerOptions options;
  tcp::acceptor acceptor;
  std::shared_ptr<spdlog::logger> access_logger;
  std::atomic<std::size_t> open{0};
  // Touched only on the io thread.
  bool draining = false;
  std::unordered_set<Connection*> connections;
};

Task<void> Server::Impl::AcceptLoop(std::shared_ptr<Impl> self) {
  while (!self->draining) {
    auto [ec, socket] = co_await self->acceptor.async_accept(kNoThrow);
    if (self->draining || ec == asio::error::operation_aborted) break;
    if (ec) {
      // Out of descriptors and the like: back off rather than spin; closing connections free them.
      spdlog::warn("http accept failed: {}", ec.message());
      asio::steady_timer pause(self->io, kAcceptBackoff);
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    asio::co_spawn(self->io, Serve(self, std::move(socket), OpenConnection(self->open)),
                   asio::detached);
  }
}

Task<void> Server::Impl::Serve(std::shared_ptr<Impl> self, tcp::socket socket,
                               OpenConnection counted) {
  Connection connection(std::move(socket));
  self->connections.insert(&connection);
  struct Registration {
    Impl& impl;
    Connection* connection;
    ~Registration() { impl.connections.erase(connection); }
  } registration{*self, &connection};
  try {
    co_await self->RunConnection(connection);
  } catch (const std::exception& e) {
    spdlog::error("http connection failed: {}", e.what());
  }
}

Task<void> Server::Impl::RunConnection(Connection& connection) {
  beast::error_code ec;
  std::string remote_ip;
  auto endpoint = connection.stream.socket().remote_endpoint(ec);
  if (!ec) remote_ip = endpoint.address().to_string();
  beast::flat_buffer buffer;
  auto& stream = connection.stream;

  while (!draining) {
    // Pipelined requests are already in the buffer; otherwise wait, idle, for the next one.
    if (buffer.size() == 0) {
      connection.idle = true;
      stream.expires_after(options.idle_timeout);
      auto [read_ec, read] =
          co_await stream.async_read_some(buffer.prepare(kFirstReadSize), kNoThrow);
      connection.idle = false;
      if (read_ec) break;
      buffer.commit(read);
    }
    auto started = std::chrono::steady_clock::now();
    auto started_wall = std::chrono::system_clock::now();

    // One deadline for the whole request, header and body.
    stream.expires_after(options.read_timeout);
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(options.is_upload ? std::max(options.body_limit, options.upload_body_limit)
                                        : options.body_limit);
    std::tie(ec, std::ignore) = co_await bhttp::async_read_header(stream, buffer, parser, kNoThrow);
    if (!ec) ec = ApplyRouteBodyLimit(options, parser);
    // Megabytes from a phone on a slow link take longer than a JSON body may.
    if (!ec && IsUpload(options, parser)) stream.expires_after(options.upload_read_timeout);
    if (!ec && parser.get().version() >= 11 &&
        beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> proceed{bhttp::status::continue_, 11};
      std::tie(ec, std::ignore) = co_await bhttp::async_write(stream, proceed, kNoThrow);
    }
    if (!ec && !parser.is_done()) {
      std::tie(ec, std::ignore) = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
    }

    Request request;
    request.remote_ip = remote_ip;
    Response response;
    std::string method;
    unsigned version = 11;
    bool keep_alive = true;
    bool rejected = false;
    if (ec) {
      auto error_response = ReadErrorResponse(ec);
      if (!error_response) break;
      // Whatever of the head was parsed still gives us the request id and the CORS origin.
      method = std::string(parser.get().method_string());
      CopyHead(parser.get(), request);
      AssignRequestId(request);
      response = std::move(*error_response);
      ApplyResponseHeaders(options, request, response);
      rejected = true;
      keep_alive = false;
    } else {
      auto message = parser.release();
      method = std::string(message.method_string());
      version = message.version();
      keep_alive = message.keep_alive();
      CopyHead(message, request);
      request.body = std::move(message.body());
      AssignRequestId(request);
      stream.expires_never();
      response = co_await HandleRequest(router, options, request);
    }
    keep_alive = keep_alive && !draining;

    int status = response.status;
    bool head = request.method == Method::kHead;
    auto out = ToBeast(response, version, head, keep_alive);
    std::size_t bytes = out.body().size();
    stream.expires_after(std::max<std::chrono::seconds>(options.read_timeout, kMinWriteTimeout));
    auto [write_ec, written] = co_await bhttp::async_write(stream, out, kNoThrow);

    if (access_logger) {
      std::string_view target = request.target;
      access_logger->info(AccessLogLine({
          .ts = started_wall,
          .request_id = request.request_id,
          .method = method,
          .path = target.substr(0, target.find('?')),
          .status = status,
          .bytes = bytes,
          .duration = std::chrono::steady_clock::now() - started,
          .remote_ip = remote_ip,
          .user_agent = request.Header("user-agent"),
      }));
    }
    if (write_ec) break;
    if (!keep_alive) {
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      if (rejected) co_await Linger(connection);
      break;
    }
  }
}

Task<void> Server::Impl::Linger(Connection& connection) {
  connection.idle = true;
  connection.stream.expires_after(kLingerTime);
  std::vector<char> sink(64 * 1024);
  for (std::size_t total = 0; total < kLingerBytes;) {
    auto [ec, read] = co_await connection.stream.async_read_some(asio::buffer(sink), kNoThrow);
    if (ec) break;
    total += read;
  }
}

void Server::Impl::Drain() {
  draining = true;
  beast::error_code ec;
  acceptor.close(ec);
  for (Connection* connection : connections) {
    if (connection->idle) connection->stream.cancel();
  }
}

std::uint16_t ResolvePort(const std::string& address, std::uint16_t port) {
  asio::io_context io;
  tcp::acceptor probe(io);
  tcp::endpoint endpoint(asio::ip::make_address(address), port);
  probe.open(endpoint.protocol());
  // SO_REUSEADDR only, so that connections of an earlier run in TIME_WAIT do not count but any
  // listener does: without SO_REUSEPORT this bind fails if anyone, including another instance of
  // this server, is listening on the port.
  probe.set_option(asio::socket_base::reuse_address(true));
  boost::system::error_code ec;
  probe.bind(endpoint, ec);
  if (ec) {
    throw boost::system::system_error(ec,
                                      "cannot listen on " + address + ":" + std::to_string(port));
  }
  return probe.local_endpoint().port();
}

Server::Server(asio::io_context& io, const Router& router, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, router, std::move(options))) {}

Server::~Server() = default;

void Server::Start() {
  const ServerOptions& options = impl_->options;
  if (options.port == 0) {
    throw std::invalid_argument("Server needs a concrete port: resolve port 0 with ResolvePort");
  }
  tcp::endpoint endpoint(asio::ip::make_address(options.address), options.port);
  tcp::acceptor& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  // Every io thread binds its own socket to the port and the kernel spreads connections over
  // them: no shared acceptor, no cross-thread hand-off.
  acceptor.set_option(ReusePort(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(impl_->io, Impl::AcceptLoop(impl_), asio::detached);
}

void Server::BeginDrain() {
  auto impl = impl_;
  asio::post(impl->io, [impl] { impl->Drain(); });
}

std::size_t Server::open_connections() const { return impl_->open.load(); }

}  // namespace market::http
