#include "handlers/system.hpp"

#include <boost/json.hpp>

namespace market::handlers {
namespace {

namespace json = boost::json;

Task<http::Response> Ready(const SystemProbes& probes) {
  bool postgres = co_await probes.postgres();
  bool redis = co_await probes.redis();
  bool ready = postgres && redis;
  co_return http::Json(ready ? 200 : 503,
                       json::object{{"status", ready ? "ready" : "unavailable"},
                                    {"checks", json::object{{"postgres", postgres ? "ok" : "down"},
                                                            {"redis", redis ? "ok" : "down"}}}});
}

Task<http::Response> Static(http::Response response) { co_return response; }

}  // namespace

void AddSystemRoutes(http::Router& router, const SystemProbes& probes) {
  using http::Method;
  router.Add(Method::kGet, "/healthz", [](http::Request&) {
    return Static(http::Json(200, json::object{{"status", "ok"}}));
  });
  router.Add(Method::kGet, "/readyz", [&probes](http::Request&) { return Ready(probes); });
  router.Add(Method::kGet, "/metrics", [&probes](http::Request&) {
    return Static(http::Text(200, "text/plain; version=0.0.4; charset=utf-8", probes.metrics()));
  });
  router.Add(Method::kGet, "/api/openapi.yaml", [&probes](http::Request&) {
    return Static(http::Text(200, "application/yaml", std::string(probes.openapi_yaml)));
  });
}

}  // namespace market::handlers
