#include "http/client.hpp"

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

}  // namespace

Task<ClientResponse> Post(std::string url, ClientHeaders headers, std::string body,
                          std::chrono::milliseconds timeout) {
  const Target target = ParseTarget(url);
  auto executor = co_await asio::this_coro::executor;

  // Loopback names resolve from /etc/hosts at once; an IP literal is not looked up at all.
  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
      target.host, target.port, tcp::resolver::numeric_service, kNoThrow);
  if (resolve_ec) throw Failure(url, "resolve", resolve_ec);

  beast::tcp_stream stream(executor);
  // One deadline for connecting, writing and reading: the stream cancels whatever is pending
  // when it passes.
  stream.expires_after(timeout);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kNoThrow);
  if (connect_ec) throw Failure(url, "connect", connect_ec);

  bhttp::request<bhttp::string_body> request{bhttp::verb::post, target.path, 11};
  request.set(bhttp::field::host, target.host + ":" + target.port);
  request.set(bhttp::field::user_agent, "marketplace");
  request.set(bhttp::field::connection, "close");
  for (auto& [name, value] : headers) request.set(name, value);
  request.body() = std::move(body);
  request.prepare_payload();
  auto [write_ec, written] = co_await bhttp::async_write(stream, request, kNoThrow);
  if (write_ec) throw Failure(url, "send", write_ec);

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kResponseBodyLimit);
  auto [read_ec, read] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
  if (read_ec) throw Failure(url, "read", read_ec);

  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  auto response = parser.release();
  co_return ClientResponse{.status = static_cast<int>(response.result_int()),
                           .body = std::move(response.body())};
}

}  // namespace market::http
