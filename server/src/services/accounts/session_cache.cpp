#include "services/accounts/session_cache.hpp"

#include <algorithm>

namespace market::services {

SessionCache::SessionCache(std::chrono::milliseconds ttl, std::size_t max_entries)
    : ttl_(ttl), max_entries_(std::max<std::size_t>(max_entries, 1)) {}

std::optional<domain::User> SessionCache::Find(UserId user, SessionFamilyId family,
                                               TimePoint now) const {
  if (!enabled()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(family);
  if (it == entries_.end() || it->second.user.id != user || now >= it->second.until)
    return std::nullopt;
  return it->second.user;
}

std::uint64_t SessionCache::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

void SessionCache::Remember(std::uint64_t generation, SessionFamilyId family, domain::User user,
                            TimePoint now) {
  if (!enabled()) return;
  std::lock_guard lock(mutex_);
  if (generation != generation_) return;
  if (entries_.size() >= max_entries_ && !entries_.contains(family)) {
    std::erase_if(entries_, [now](const auto& entry) { return now >= entry.second.until; });
    if (entries_.size() >= max_entries_) entries_.clear();
  }
  entries_.insert_or_assign(family, Entry{.user = std::move(user), .until = now + ttl_});
}

void SessionCache::ForgetUser(UserId user) {
  std::lock_guard lock(mutex_);
  ++generation_;
  std::erase_if(entries_, [user](const auto& entry) { return entry.second.user.id == user; });
}

void SessionCache::ForgetFamily(SessionFamilyId family) {
  std::lock_guard lock(mutex_);
  ++generation_;
  entries_.erase(family);
}

}  // namespace market::services
