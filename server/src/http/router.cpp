#include "http/router.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

namespace market::http {
namespace {

// "/" -> [""], "/a/b" -> ["a", "b"], "/a/" -> ["a", ""]: an empty last segment keeps a trailing
// slash distinct from the path without it.
template <class Segment>
std::vector<Segment> Split(std::string_view path) {
  std::vector<Segment> out;
  std::size_t pos = 1;
  for (;;) {
    std::size_t slash = path.find('/', pos);
    out.emplace_back(path.substr(pos, slash == std::string_view::npos ? slash : slash - pos));
    if (slash == std::string_view::npos) return out;
    pos = slash + 1;
  }
}

bool IsParam(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

bool Matches(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (IsParam(pattern[i]) ? path[i].empty() : pattern[i] != path[i]) return false;
  }
  return true;
}

// Between two patterns that both match, the one with a literal where the other has a parameter
// first wins, so /users/me beats /users/{id} whatever the registration order.
bool MoreSpecific(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    bool a_literal = !IsParam(a[i]);
    bool b_literal = !IsParam(b[i]);
    if (a_literal != b_literal) return a_literal;
  }
  return false;
}

constexpr std::array kAllowOrder = {Method::kGet, Method::kHead,  Method::kPost,
                                    Method::kPut, Method::kPatch, Method::kDelete};

}  // namespace

void Router::Add(Method method, std::string pattern, Handler handler) {
  // A bad route table is a programming error: fail at start-up, not on the first request.
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  }
  if (method == Method::kOther) throw std::invalid_argument("route needs a known method");
  if (!handler) throw std::invalid_argument("route without a handler: " + pattern);
  for (const auto& entry : entries_) {
    if (entry.method == method && entry.pattern == pattern) {
      throw std::invalid_argument("duplicate route: " + std::string(MethodName(method)) + " " +
                                  pattern);
    }
  }
  auto segments = Split<std::string>(pattern);
  for (const auto& segment : segments) {
    if (segment.find_first_of("{}") != std::string::npos && !IsParam(segment)) {
      throw std::invalid_argument("a parameter must be a whole segment: " + pattern);
    }
  }
  entries_.push_back(Entry{.method = method,
                           .pattern = std::move(pattern),
                           .segments = std::move(segments),
                           .handler = std::move(handler)});
}

Task<Response> Router::Dispatch(Request& request) const {
  const Entry* exact = nullptr;
  const Entry* get_for_head = nullptr;
  std::array<bool, kAllowOrder.size()> allowed{};
  bool path_exists = false;
  if (!request.path.empty() && request.path.front() == '/') {
    auto path = Split<std::string_view>(request.path);
    auto better = [](const Entry* current, const Entry& candidate) {
      return current == nullptr || MoreSpecific(candidate.segments, current->segments);
    };
    for (const auto& entry : entries_) {
      if (!Matches(entry.segments, path)) continue;
      path_exists = true;
      auto slot = std::find(kAllowOrder.begin(), kAllowOrder.end(), entry.method);
      if (slot != kAllowOrder.end()) allowed[slot - kAllowOrder.begin()] = true;
      if (entry.method == request.method && better(exact, entry)) exact = &entry;
      if (request.method == Method::kHead && entry.method == Method::kGet &&
          better(get_for_head, entry)) {
        get_for_head = &entry;
      }
    }
  }

  const Entry* chosen = exact != nullptr ? exact : get_for_head;
  if (chosen != nullptr) {
    auto path = Split<std::string_view>(request.path);
    request.path_params.clear();
    for (std::size_t i = 0; i < chosen->segments.size(); ++i) {
      const std::string& segment = chosen->segments[i];
      if (IsParam(segment)) {
        request.path_params.emplace_back(segment.substr(1, segment.size() - 2),
                                         std::string(path[i]));
      }
    }
    co_return co_await chosen->handler(request);
  }

  // GET implies HEAD, because HEAD falls back to the GET handler.
  allowed[1] = allowed[1] || allowed[0];
  std::string allow;
  for (std::size_t i = 0; i < kAllowOrder.size(); ++i) {
    if (!allowed[i]) continue;
    if (!allow.empty()) allow += ", ";
    allow += MethodName(kAllowOrder[i]);
  }
  if (!path_exists && fallback_ &&
      (request.method == Method::kGet || request.method == Method::kHead)) {
    co_return co_await fallback_(request);
  }
  if (!path_exists) {
    co_return ErrorResponse(MakeError(
        ErrorCode::kNotFound,
        "No route for " + std::string(MethodName(request.method)) + " " + request.path + "."));
  }
  Response response = ErrorResponse(
      MakeError(ErrorCode::kMethodNotAllowed,
                "Method " + std::string(MethodName(request.method)) + " is not allowed here."));
  response.SetHeader("Allow", std::move(allow));
  co_return response;
}

std::vector<Route> Router::Routes() const {
  std::vector<Route> routes;
  routes.reserve(entries_.size());
  for (const auto& entry : entries_) routes.push_back(Route{entry.method, entry.pattern});
  return routes;
}

void Router::SetFallback(Handler handler) { fallback_ = std::move(handler); }

void Router::WrapHandlers(const std::function<Handler(const Route&, Handler)>& wrap) {
  for (auto& entry : entries_) {
    entry.handler = wrap(Route{entry.method, entry.pattern}, std::move(entry.handler));
  }
}

}  // namespace market::http
