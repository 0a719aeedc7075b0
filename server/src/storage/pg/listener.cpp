#include "storage/pg/listener.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

namespace market::pg {
namespace {

struct ConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;

constexpr std::chrono::seconds kMaxReconnectDelay{30};
// A dead server host is noticed by TCP keepalives; this only bounds how long a wait lasts.
constexpr int kIdleWaitMs = 30'000;

std::string ErrorOf(PGconn* conn) {
  std::string text = PQerrorMessage(conn);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

Listener::Listener(std::string conninfo, std::string channel, Callback on_notify)
    : conninfo_(std::move(conninfo)),
      channel_(std::move(channel)),
      on_notify_(std::move(on_notify)) {
  if (pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error("listener: cannot create a pipe");
  }
}

Listener::~Listener() {
  Stop();
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

void Listener::Start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Listener::Stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  const char byte = 0;
  [[maybe_unused]] auto written = write(stop_pipe_[1], &byte, 1);
  thread_.join();
  char drain[16];
  while (read(stop_pipe_[0], drain, sizeof drain) > 0) {
  }
}

bool Listener::WaitReadable(int fd, int timeout_ms) {
  pollfd fds[2] = {{.fd = stop_pipe_[0], .events = POLLIN, .revents = 0},
                   {.fd = fd, .events = POLLIN, .revents = 0}};
  const int count = fd >= 0 ? 2 : 1;
  int ready = poll(fds, count, timeout_ms);
  if (stopping_ || ready <= 0) return false;
  return count == 2 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
}

void Listener::Run() {
  auto delay = std::chrono::seconds(1);
  while (!stopping_) {
    if (Session()) delay = std::chrono::seconds(1);
    listening_ = false;
    if (stopping_) break;
    WaitReadable(-1, static_cast<int>(std::chrono::milliseconds(delay).count()));
    delay = std::min(delay * 2, kMaxReconnectDelay);
  }
}

bool Listener::Session() {
  // Defaults first: what the connection string itself says overrides them.
  const std::vector<const char*> keys = {"application_name",
                                         "connect_timeout",
                                         "keepalives_idle",
                                         "keepalives_interval",
                                         "keepalives_count",
                                         "dbname",
                                         nullptr};
  const std::vector<const char*> values = {"marketplace-listener", "5",    "30", "10", "3",
                                           conninfo_.c_str(),      nullptr};
  ConnPtr conn(PQconnectdbParams(keys.data(), values.data(), 1));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    spdlog::warn("listener: cannot connect: {}", conn ? ErrorOf(conn.get()) : "out of memory");
    return false;
  }
  std::unique_ptr<char, decltype(&PQfreemem)> channel(
      PQescapeIdentifier(conn.get(), channel_.c_str(), channel_.size()), PQfreemem);
  if (!channel) {
    spdlog::error("listener: cannot quote channel {}: {}", channel_, ErrorOf(conn.get()));
    return false;
  }
  const std::string listen = std::string("LISTEN ") + channel.get();
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), listen.c_str()), PQclear);
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    spdlog::warn("listener: {} failed: {}", listen, ErrorOf(conn.get()));
    return false;
  }
  spdlog::info("listener: listening on {}", channel_);
  // Before listening() turns true, so that whoever waits for it also sees the wake-up.
  on_notify_("");
  listening_ = true;
  while (!stopping_) {
    if (!WaitReadable(PQsocket(conn.get()), kIdleWaitMs)) continue;
    if (PQconsumeInput(conn.get()) == 0) {
      spdlog::warn("listener: connection lost: {}", ErrorOf(conn.get()));
      return true;
    }
    while (PGnotify* notify = PQnotifies(conn.get())) {
      std::string payload = notify->extra != nullptr ? notify->extra : "";
      PQfreemem(notify);
      on_notify_(payload);
    }
  }
  return true;
}

}  // namespace market::pg
