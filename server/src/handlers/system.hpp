#pragma once

#include <functional>
#include <string>

#include "common/task.hpp"
#include "http/router.hpp"

namespace market::handlers {

struct SystemProbes {
  // Each returns true when its dependency answers; must not throw.
  std::function<Task<bool>()> postgres;
  std::function<Task<bool>()> redis;
  std::function<std::string()> metrics;  // Prometheus text exposition
  std::string_view openapi_yaml;
};

// /healthz, /readyz, /metrics, /api/openapi.yaml.
void AddSystemRoutes(http::Router& router, const SystemProbes& probes);

}  // namespace market::handlers
