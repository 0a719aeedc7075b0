#include "http/client.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include "common/unavailable.hpp"

namespace market::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kResponseBodyLimit = 1024 * 1024;

struct Target {
  std::string host;
  std::string port;
  std::string path;  // with the query
};

Target ParseTarget(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme_id() != boost::urls::scheme::http || parsed->host().empty())
    throw std::invalid_argument("http client: not an http:// URL: " + std::string(url));
  Target target{.host = std::string(parsed->encoded_host_address()),
                .port = parsed->has_port() ? std::string(parsed->port()) : "80",
                .path = std::string(parsed->encoded_target())};
  if (target.path.empty()) target.path = "/";
  // The brackets of an IPv6 literal belong to the URL, not to the address.
  if (target.host.size() > 2 && target.host.front() == '[' && target.host.back() == ']')
    target.host = target.host.substr(1, target.host.size() - 2);
  return target;
}

ServiceUnavailable Failure(const std::string& url, std::string_view what,
                           const boost::system::error_code& ec) {
  return ServiceUnavailable("POST " + url + ": " + std::string(what) + ": " + ec.message());
}

struct Exchanged {
  ClientResponse response;
  bool keep_alive = false;
};

// Sends one request on `stream` and reads its answer. `answered_any`: some of an answer came
// back (a failure after that is not a closed idle connection).
Task<Exchanged> Exchange(beast::tcp_stream& stream, const Target& target, const std::string& url,
                         ClientHeaders headers, std::string body, bool& answered_any) {
  bhttp::request<bhttp::string_body> request{bhttp::verb::post, target.path, 11};
  request.set(bhttp::field::host, target.host + ":" + target.port);
  request.set(bhttp::field::user_agent, "marketplace");
  request.keep_alive(true);
  for (auto& [name, value] : headers) request.set(name, value);
  request.body() = std::move(body);
  request.prepare_payload();
  auto [write_ec, written] = co_await bhttp::async_write(stream, request, kNoThrow);
  if (write_ec) throw Failure(url, "send", write_ec);

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kResponseBodyLimit);
  auto [read_ec, read] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
  answered_any = buffer.size() > 0 || parser.got_some();
  if (read_ec) throw Failure(url, "read", read_ec);
  auto response = parser.release();
  co_return Exchanged{.response = ClientResponse{.status = static_cast<int>(response.result_int()),
                                                 .body = std::move(response.body())},
                      .keep_alive = response.keep_alive()};
}

// Resolves and connects within the stream's deadline.
Task<void> Connect(beast::tcp_stream& stream, const Target& target, const std::string& url) {
  auto executor = co_await asio::this_coro::executor;
  // Loopback names resolve from /etc/hosts at once; an IP literal is not looked up at all.
  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
      target.host, target.port, tcp::resolver::numeric_service, kNoThrow);
  if (resolve_ec) throw Failure(url, "resolve", resolve_ec);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kNoThrow);
  if (connect_ec) throw Failure(url, "connect", connect_ec);
}

// True when an idle connection was closed by its server (or sent something unasked for).
bool ClosedWhileIdle(beast::tcp_stream& stream) {
  char byte;
  const ssize_t n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n >= 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

}  // namespace

struct Client::Connection {
  explicit Connection(asio::any_io_executor executor) : stream(std::move(executor)) {}
  beast::tcp_stream stream;
};

Client::Client(std::size_t max_idle) : max_idle_(max_idle) {}

Client::~Client() = default;

std::size_t Client::idle_connections() const {
  std::size_t n = 0;
  for (const auto& [host_port, connections] : idle_) n += connections.size();
  return n;
}

std::unique_ptr<Client::Connection> Client::TakeIdle(const std::string& host_port) {
  auto found = idle_.find(host_port);
  if (found == idle_.end()) return nullptr;
  auto& connections = found->second;
  while (!connections.empty()) {
    std::unique_ptr<Connection> connection = std::move(connections.back());
    connections.pop_back();
    if (!ClosedWhileIdle(connection->stream)) return connection;
  }
  return nullptr;
}

Task<ClientResponse> Client::Post(std::string url, ClientHeaders headers, std::string body,
                                  std::chrono::milliseconds timeout) {
  const Target target = ParseTarget(url);
  const std::string host_port = target.host + ":" + target.port;
  for (bool retried = false;; retried = true) {
    std::unique_ptr<Connection> connection = retried ? nullptr : TakeIdle(host_port);
    const bool reused = connection != nullptr;
    if (!reused) {
      auto executor = co_await asio::this_coro::executor;
      connection = std::make_unique<Connection>(executor);
      connection->stream.expires_after(timeout);
      co_await Connect(connection->stream, target, url);
    }
    connection->stream.expires_after(timeout);
    bool answered_any = false;
    std::optional<Exchanged> done;
    try {
      done = co_await Exchange(connection->stream, target, url, headers, body, answered_any);
    } catch (const ServiceUnavailable&) {
      // A kept connection the server closed between our check and our request: once more, fresh.
      if (!reused || answered_any) throw;
    }
    if (!done) continue;
    if (done->keep_alive && idle_[host_port].size() < max_idle_) {
      connection->stream.expires_never();
      idle_[host_port].push_back(std::move(connection));
    }
    co_return std::move(done->response);
  }
}

}  // namespace market::http
