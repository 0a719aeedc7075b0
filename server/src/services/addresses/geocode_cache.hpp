#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/task.hpp"

namespace market::services {

// A cache of provider answers (a geocoder's responses by request). Best effort: an unreachable
// store is a miss, and a failed write is forgotten; neither throws.
class GeocodeCache {
 public:
  virtual ~GeocodeCache() = default;
  virtual Task<std::optional<std::string>> Get(const std::string& key) = 0;
  virtual Task<void> Put(const std::string& key, const std::string& value,
                         std::chrono::seconds ttl) = 0;
};

}  // namespace market::services
