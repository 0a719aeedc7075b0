#pragma once

#include <chrono>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/task.hpp"

namespace market {

// Waits `duration` on the calling coroutine's executor (a backoff between attempts, a debug
// job's sleep). Nothing can cut it short: a wait that shutdown must end keeps a timer of its own.
inline Task<void> Pause(std::chrono::milliseconds duration) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, duration);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

}  // namespace market
