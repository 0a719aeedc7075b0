#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/task.hpp"
#include "http/request.hpp"
#include "http/response.hpp"

namespace market::http {

using Handler = std::function<Task<Response>(Request&)>;

struct Route {
  Method method;
  std::string pattern;  // e.g. /api/v1/users/{username}
};

// Matches (method, path) to a handler. Patterns are literal segments and `{name}` parameters,
// each matching one non-empty segment. A path that matches with another method is 405 with Allow;
// no match is 404. A trailing slash is a different path.
class Router {
 public:
  void Add(Method method, std::string pattern, Handler handler);
  // Runs the matching handler, or answers 404/405 in the standard error body. HEAD is answered
  // by the GET handler when no HEAD route exists.
  Task<Response> Dispatch(Request& request) const;
  std::vector<Route> Routes() const;
  // Answers GET and HEAD requests whose path matches no route (the web app's files and client
  // routes); without one they are 404. Not part of Routes().
  void SetFallback(Handler handler);
  // Replaces every handler with wrap(route, handler): for cross-cutting concerns that need the
  // route pattern, such as per-route metrics. Call before serving.
  void WrapHandlers(const std::function<Handler(const Route&, Handler)>& wrap);

 private:
  struct Entry {
    Method method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Entry> entries_;
  Handler fallback_;
};

}  // namespace market::http
