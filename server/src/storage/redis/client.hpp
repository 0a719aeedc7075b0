#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "common/task.hpp"
#include "common/unavailable.hpp"

namespace market::redis {

// Redis could not be reached, the connection broke, or a command timed out. A ServiceUnavailable,
// so that an outage nobody handles answers 503 rather than 500.
class Unavailable : public ServiceUnavailable {
 public:
  using ServiceUnavailable::ServiceUnavailable;
};

struct Reply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  long long integer = 0;
  std::vector<Reply> elements;
};

// A Lua script run by SHA1 with EVALSHA, falling back to EVAL on NOSCRIPT.
class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

struct ClientOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::chrono::milliseconds command_timeout{1000};
  std::chrono::milliseconds connect_timeout{1000};
};

// Parses redis://host:port[/db].
ClientOptions ParseRedisUrl(const std::string& url);

// One pipelined hiredis async connection on an io_context's executor. Not thread-safe: one per io
// thread. Connects lazily and reconnects after a failure; commands in flight when the connection
// breaks, or past their timeout, throw Unavailable.
class Client {
 public:
  Client(boost::asio::any_io_executor executor, ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Task<Reply> Command(std::vector<std::string> argv);
  Task<Reply> Eval(const Script& script, std::vector<std::string> keys,
                   std::vector<std::string> args);
  Task<void> Ping();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace market::redis
