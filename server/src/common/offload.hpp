#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "common/task.hpp"

namespace market {

// Runs blocking or CPU-heavy `fn` on `pool` and resumes the caller on its own executor, so an io
// thread never blocks. Build `fn` as a named local and std::move it in: g++ 12 destroys a lambda
// with non-trivial captures twice when it is created inside the co_await expression.
template <class Fn>
Task<std::invoke_result_t<Fn&>> Offload(boost::asio::thread_pool& pool, Fn fn) {
  using R = std::invoke_result_t<Fn&>;
  auto home = co_await boost::asio::this_coro::executor;
  co_await boost::asio::post(pool.get_executor(), boost::asio::use_awaitable);
  std::exception_ptr failure;
  if constexpr (std::is_void_v<R>) {
    try {
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
    co_await boost::asio::post(home, boost::asio::use_awaitable);
    if (failure) std::rethrow_exception(failure);
  } else {
    std::optional<R> out;
    try {
      out.emplace(fn());
    } catch (...) {
      failure = std::current_exception();
    }
    co_await boost::asio::post(home, boost::asio::use_awaitable);
    if (failure) std::rethrow_exception(failure);
    co_return std::move(*out);
  }
}

}  // namespace market
