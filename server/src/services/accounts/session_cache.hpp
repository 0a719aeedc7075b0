#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "domain/users/user.hpp"

namespace market::services {

// The sessions that PostgreSQL found live a moment ago, so that a client's burst of requests costs
// one session lookup instead of one each. Shared by the io threads of a process (thread-safe).
//
// What it may cost: a session revoked or an account changed by *another* process (another `serve`
// behind the same proxy, the worker's purge) is honoured here up to `ttl` late. Changes made
// through this process are honoured at once: its services call Forget… after they commit, and a
// lookup that raced such a change is not remembered (each Forget… starts a new generation, and
// Remember only keeps what was read within the current one).
class SessionCache {
 public:
  // A zero ttl turns the cache off: nothing is remembered.
  explicit SessionCache(std::chrono::milliseconds ttl, std::size_t max_entries = 100'000);

  bool enabled() const { return ttl_.count() > 0; }

  // The user behind a live session, if looked up less than ttl ago.
  std::optional<domain::User> Find(UserId user, SessionFamilyId family, TimePoint now) const;
  // Read before the lookup in PostgreSQL; hand it back to Remember with the lookup's answer.
  std::uint64_t generation() const;
  void Remember(std::uint64_t generation, SessionFamilyId family, domain::User user, TimePoint now);

  void ForgetUser(UserId user);
  void ForgetFamily(SessionFamilyId family);

 private:
  struct Entry {
    domain::User user;
    TimePoint until;
  };

  std::chrono::milliseconds ttl_;
  std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::uint64_t generation_ = 0;
  std::unordered_map<SessionFamilyId, Entry> entries_;
};

}  // namespace market::services
