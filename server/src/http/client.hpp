#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/task.hpp"

namespace market::http {

struct ClientResponse {
  int status = 0;
  std::string body;
};

using ClientHeaders = std::vector<std::pair<std::string, std::string>>;

// POSTs to plain http:// URLs (loopback services such as the local payment gateway's webhook
// receiver) over kept-alive HTTP/1.1 connections, on the caller's executor: an answered request
// leaves its connection idle for the next one to the same host and port (at most `max_idle` per
// host). `timeout` bounds connecting, sending and reading the whole answer. Any status comes back
// as a response; failing to connect, a timeout, a broken answer or an answer over 1 MiB throw
// ServiceUnavailable. A URL that is not http:// is a programming error (std::invalid_argument).
// A reused connection that the server closed meanwhile is found out before or while sending, and
// the request goes once more over a fresh one: only for requests that may arrive twice (webhooks
// carry their event id). Used from one executor only, like everything of a shard.
// Build the headers as a named local: g++ 12 mishandles braced lists inside co_await expressions.
class Client {
 public:
  explicit Client(std::size_t max_idle = 16);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Task<ClientResponse> Post(std::string url, ClientHeaders headers, std::string body,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::size_t idle_connections() const;

 private:
  struct Connection;
  std::unique_ptr<Connection> TakeIdle(const std::string& host_port);

  std::size_t max_idle_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

}  // namespace market::http
