#pragma once

#include <boost/asio/awaitable.hpp>

namespace market {

// The one coroutine type of the project: services, repositories and handlers return Task<T>.
template <class T = void>
using Task = boost::asio::awaitable<T>;

}  // namespace market
