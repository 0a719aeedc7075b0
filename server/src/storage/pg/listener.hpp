#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace market::pg {

// Receives PostgreSQL notifications on one channel over a connection of its own (LISTEN belongs
// to a session, so a pooled connection would not do). It runs on a thread of its own with
// blocking libpq, since it holds one socket and has nothing else to do, and never touches an io
// thread. It reconnects with backoff, and calls on_notify("") after every (re)connect because
// notifications sent while it was away are lost: the receiver should look for work then.
class Listener {
 public:
  // Called on the listener's thread with the notification's payload.
  using Callback = std::function<void(std::string_view payload)>;

  Listener(std::string conninfo, std::string channel, Callback on_notify);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  void Start();
  // Joins the thread: at once while listening or waiting to reconnect, within the 5 s connect
  // timeout while connecting.
  void Stop();
  // Whether LISTEN is in effect now.
  bool listening() const { return listening_.load(); }

 private:
  void Run();
  // One connection, until it breaks or Stop(). False if it never got to LISTEN.
  bool Session();
  // Waits for `fd` to be readable or for Stop(); false on Stop() or timeout.
  bool WaitReadable(int fd, int timeout_ms);

  std::string conninfo_;
  std::string channel_;
  Callback on_notify_;
  std::thread thread_;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listening_{false};
};

}  // namespace market::pg
