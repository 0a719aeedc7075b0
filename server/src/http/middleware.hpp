#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/task.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

// The request pipeline of the server minus the socket: kept free of Beast so it compiles fast and
// reads as plain code.
namespace market::http {

// 1-64 characters of [A-Za-z0-9._-]: anything else could smuggle text into logs or headers.
bool IsValidRequestId(std::string_view id);
std::string NewRequestId();
// Keeps a well-formed incoming X-Request-Id so a trace spans the proxy and us; replaces any other.
void AssignRequestId(Request& request);

// Splits request.target into path and query, answers CORS preflights, runs the router and turns
// escaping exceptions into 500/503, then applies ApplyResponseHeaders. Needs request_id set.
Task<Response> HandleRequest(const Router& router, const ServerOptions& options, Request& request);

// X-Request-Id, security headers, Cache-Control for JSON, CORS for allowed origins. For responses
// produced outside HandleRequest too (malformed requests), so every response carries them.
void ApplyResponseHeaders(const ServerOptions& options, const Request& request, Response& response);

struct AccessLogEntry {
  std::chrono::system_clock::time_point ts;
  std::string_view request_id;
  std::string_view method;
  std::string_view path;  // without the query: it may carry secrets
  int status = 0;
  std::size_t bytes = 0;
  std::chrono::steady_clock::duration duration{};
  std::string_view remote_ip;
  std::string_view user_agent;
};

// One JSON object, no trailing newline.
std::string AccessLogLine(const AccessLogEntry& entry);

}  // namespace market::http
