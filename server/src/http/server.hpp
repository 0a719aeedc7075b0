#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "http/router.hpp"

namespace market::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 1024 * 1024;
  // Requests whose path (percent-decoded, without the query) satisfies is_upload may carry up to
  // upload_body_limit; all others keep body_limit. Chosen from the header, before any body byte
  // is read, so an oversized JSON body is refused at once. The default leaves room for an 8 MiB
  // file plus multipart framing.
  std::size_t upload_body_limit = 8 * 1024 * 1024 + 64 * 1024;
  std::function<bool(std::string_view path)> is_upload;
  std::chrono::seconds read_timeout{15};          // whole request, once its first byte arrived
  std::chrono::seconds upload_read_timeout{120};  // the same for is_upload requests
  std::chrono::seconds idle_timeout{60};          // keep-alive wait for the next request
  std::vector<std::string> cors_origins;          // exact origins allowed; empty: no CORS headers
  bool access_log = true;
};

// The port to give ServerOptions: `port` itself once a probe bind shows that nobody is listening
// on it (the servers bind with SO_REUSEPORT, which would otherwise let a second instance share
// the port silently), or a free port when `port` is 0. Throws boost::system::system_error when
// the port is taken.
std::uint16_t ResolvePort(const std::string& address, std::uint16_t port);

// The HTTP/1.1 server of one io thread: accepts on its own SO_REUSEPORT socket and runs each
// connection as a coroutine on that thread. The middleware around the router lives here:
// X-Request-Id, access log, CORS, security headers, limits, and turning any exception into a
// logged 500 in the standard error body.
class Server {
 public:
  Server(boost::asio::io_context& io, const Router& router, ServerOptions options);
  ~Server();

  void Start();
  // Stops accepting, closes idle keep-alive connections, and lets requests in flight finish
  // (their responses carry Connection: close). Safe to call from any thread.
  void BeginDrain();
  // Connections still open on this server. Safe to call from any thread.
  std::size_t open_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace market::http
