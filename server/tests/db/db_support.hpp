#pragma once

// Helpers for tests against the real PostgreSQL and Redis that `make test` (or
// `scripts/services up`) starts.

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "common/task.hpp"

namespace market {

namespace db_support_detail {

inline std::string RequiredEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) +
                             " is not set. Start the services and export their URLs: "
                             "scripts/services up; eval \"$(scripts/services env test)\"; "
                             "export DATABASE_URL REDIS_URL");
  }
  return value;
}

template <class T>
Task<void> Store(Task<T> task, std::optional<T>& out) {
  out.emplace(co_await std::move(task));
}

}  // namespace db_support_detail

// The test database (a libpq URL). Throws, failing the test, when DATABASE_URL is unset.
inline std::string TestDatabaseUrl() { return db_support_detail::RequiredEnv("DATABASE_URL"); }

// The test Redis (redis://host:port/db). Throws, failing the test, when REDIS_URL is unset.
inline std::string TestRedisUrl() { return db_support_detail::RequiredEnv("REDIS_URL"); }

// Runs `task` on `io` until it finishes and returns its result or rethrows its exception. Other
// work left on `io` (idle reads, detached clean-ups) stays queued for the next call. Bounded, so
// that a hang fails the test instead of blocking the suite.
template <class T>
T RunTask(boost::asio::io_context& io, Task<T> task,
          std::chrono::steady_clock::duration limit = std::chrono::seconds(60)) {
  std::exception_ptr failure;
  bool done = false;
  auto finished = [&failure, &done](std::exception_ptr e) {
    failure = std::move(e);
    done = true;
  };
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> out;
  io.restart();
  if constexpr (std::is_void_v<T>) {
    boost::asio::co_spawn(io, std::move(task), std::move(finished));
  } else {
    boost::asio::co_spawn(io, db_support_detail::Store(std::move(task), out), std::move(finished));
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    if (io.run_one_until(deadline) == 0 && io.stopped()) break;
  }
  if (!done) {
    throw std::runtime_error(io.stopped() ? "RunTask: the task is stuck (no work left to run)"
                                          : "RunTask: the task did not finish in time");
  }
  if (failure) std::rethrow_exception(failure);
  if constexpr (!std::is_void_v<T>) return std::move(*out);
}

// Starts every task at once and runs the io_context until all have finished, within `limit`
// (a Redis connection keeps the io_context busy, so run() would not return). The first failure
// is rethrown once all have finished.
inline void RunConcurrently(boost::asio::io_context& io, std::vector<Task<void>> tasks,
                            std::chrono::steady_clock::duration limit = std::chrono::seconds(60)) {
  const std::size_t total = tasks.size();
  std::size_t finished = 0;
  std::exception_ptr failure;
  io.restart();
  for (auto& task : tasks) {
    boost::asio::co_spawn(io, std::move(task), [&finished, &failure](std::exception_ptr e) {
      if (e && !failure) failure = e;
      ++finished;
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (finished < total && std::chrono::steady_clock::now() < deadline) {
    io.run_one_until(deadline);
  }
  if (finished < total) throw std::runtime_error("concurrent tasks did not finish in time");
  if (failure) std::rethrow_exception(failure);
}

// `conninfo` (a libpq URL or key=value string) with one more parameter, e.g. application_name
// or dbname; a later parameter overrides an earlier one.
inline std::string AddConnParam(std::string conninfo, std::string_view key,
                                std::string_view value) {
  if (conninfo.find("://") != std::string::npos) {
    conninfo += conninfo.find('?') == std::string::npos ? '?' : '&';
    conninfo.append(key).append("=");
    constexpr char kHex[] = "0123456789ABCDEF";
    for (unsigned char c : value) {
      if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.') {
        conninfo += static_cast<char>(c);
      } else {
        conninfo.append({'%', kHex[c >> 4], kHex[c & 0xf]});
      }
    }
  } else {
    conninfo.append(" ").append(key).append("='");
    for (char c : value) {
      if (c == '\\' || c == '\'') conninfo += '\\';
      conninfo += c;
    }
    conninfo += '\'';
  }
  return conninfo;
}

// A random decimal suffix for names that concurrent test runs must not share (tables, databases,
// application names).
inline std::string RandomSuffix() {
  static std::mt19937_64 random{std::random_device{}()};
  return std::to_string(random() % 1'000'000'000'000);
}

// A Redis key `test:<suite>:<what>:<random suffix>`: concurrent test runs do not share it, and a
// leftover shows which suite wrote it.
inline std::string UniqueRedisKey(std::string_view suite, std::string_view what) {
  std::string key = "test:";
  key.append(suite).append(":").append(what).append(":").append(RandomSuffix());
  return key;
}

// Builds a Redis argument vector outside the co_await expression: g++ 12 miscompiles a braced
// list of string literals there ("array used as initializer").
template <class... Args>
std::vector<std::string> Argv(Args&&... args) {
  return {std::string(std::forward<Args>(args))...};
}

// The source tree's server/migrations.
inline std::filesystem::path MigrationsDir() {
  namespace fs = std::filesystem;
  const fs::path here = fs::absolute(fs::path(__FILE__)).parent_path();
  for (fs::path dir = here; !dir.empty(); dir = dir.parent_path()) {
    if (fs::is_directory(dir / "server" / "migrations")) return dir / "server" / "migrations";
    if (dir == dir.parent_path()) break;
  }
  throw std::runtime_error("server/migrations not found above " + here.string());
}

}  // namespace market
