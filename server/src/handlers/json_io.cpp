#include "handlers/json_io.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <cstdint>
#include <ctime>

#include <fmt/format.h>

#include "common/text.hpp"

namespace market::handlers {
namespace json = boost::json;

namespace {

bool IsJsonContentType(std::string_view value) {
  auto semicolon = value.find(';');
  std::string_view type = value.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return EqualsIgnoreCase(type, "application/json");
}

std::string_view TypeName(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

}  // namespace

Result<json::object> ParseJsonObject(const http::Request& request) {
  if (!IsJsonContentType(request.Header("content-type")))
    return MakeError(ErrorCode::kUnsupportedMediaType, "The body must be application/json.");
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 32;
  json::value value = json::parse(request.body, ec, {}, options);
  if (ec) return MakeError(ErrorCode::kInvalidJson, "The body is not valid JSON.");
  if (!value.is_object())
    return MakeError(ErrorCode::kInvalidJson, "The body must be a JSON object.");
  return std::move(value.as_object());
}

std::optional<std::string> FieldReader::OptionalString(std::string_view name,
                                                       std::size_t max_bytes) {
  const json::value* value = object_.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    errors_.push_back(
        {std::string(name), fmt::format("must be a string, not {}", TypeName(*value))});
    return std::nullopt;
  }
  const json::string& text = value->as_string();
  if (text.size() > max_bytes) {
    errors_.push_back({std::string(name), fmt::format("must be at most {} bytes", max_bytes)});
    return std::nullopt;
  }
  return std::string(text);
}

std::optional<std::int64_t> FieldReader::OptionalInteger(std::string_view name) {
  const json::value* value = object_.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->as_int64();
  if (value->is_uint64() && value->as_uint64() <= std::uint64_t(INT64_MAX))
    return static_cast<std::int64_t>(value->as_uint64());
  if (value->is_double()) {
    double d = value->as_double();
    if (d == std::floor(d) && std::abs(d) < 9e15) return static_cast<std::int64_t>(d);
  }
  errors_.push_back({std::string(name), value->is_number() ? "must be a whole number"
                                                           : fmt::format("must be a number, not {}",
                                                                         TypeName(*value))});
  return std::nullopt;
}

std::int64_t FieldReader::RequiredInteger(std::string_view name) {
  if (!object_.contains(name)) {
    errors_.push_back({std::string(name), "is required"});
    return 0;
  }
  return OptionalInteger(name).value_or(0);
}

std::string FieldReader::RequiredString(std::string_view name, std::size_t max_bytes) {
  if (!object_.contains(name)) {
    errors_.push_back({std::string(name), "is required"});
    return {};
  }
  return OptionalString(name, max_bytes).value_or(std::string());
}

void FieldReader::RejectOthers(std::initializer_list<std::string_view> known,
                               std::initializer_list<std::string_view> fixed) {
  for (const auto& entry : object_) {
    std::string_view key = entry.key();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    bool is_fixed = std::find(fixed.begin(), fixed.end(), key) != fixed.end();
    errors_.push_back(
        {std::string(key.substr(0, 64)), is_fixed ? "cannot be changed" : "is not a known field"});
  }
}

void FieldReader::RejectOthers(const std::vector<std::string_view>& known) {
  for (const auto& entry : object_) {
    std::string_view key = entry.key();
    if (std::find(known.begin(), known.end(), key) == known.end())
      errors_.push_back({std::string(key.substr(0, 64)), "is not a known field"});
  }
}

std::optional<bool> FieldReader::OptionalBool(std::string_view name) {
  const json::value* value = object_.if_contains(name);
  if (value == nullptr) return std::nullopt;
  if (value->is_bool()) return value->as_bool();
  errors_.push_back(
      {std::string(name), fmt::format("must be a boolean, not {}", TypeName(*value))});
  return std::nullopt;
}

services::ClientInfo ClientOf(const http::Request& request) {
  return services::ClientInfo{.ip = request.remote_ip,
                              .user_agent = std::string(request.Header("user-agent"))};
}

std::string FormatTime(TimePoint time) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms % 1000);
}

json::object MeJson(const domain::User& user) {
  return json::object{{"id", user.id.value},
                      {"username", user.username},
                      {"email", user.email},
                      {"display_name", user.display_name},
                      {"created_at", FormatTime(user.created_at)},
                      {"updated_at", FormatTime(user.updated_at)}};
}

json::object PublicUserJson(const domain::User& user) {
  return json::object{{"id", user.id.value},
                      {"username", user.username},
                      {"display_name", user.display_name},
                      {"created_at", FormatTime(user.created_at)}};
}

json::object SessionJson(const services::Session& session) {
  const services::TokenPair& tokens = session.tokens;
  return json::object{
      {"user", MeJson(session.user)},
      {"tokens", json::object{{"access_token", tokens.access_token},
                              {"token_type", "Bearer"},
                              {"expires_in", tokens.expires_in.count()},
                              {"refresh_token", tokens.refresh_token},
                              {"refresh_expires_at", FormatTime(tokens.refresh_expires_at)}}}};
}

http::Response AuthErrorResponse(const Error& error) {
  http::Response response = http::ErrorResponse(error);
  if (error.code == ErrorCode::kUnauthenticated) {
    response.SetHeader("WWW-Authenticate", "Bearer");
  } else if (HttpStatus(error.code) == 401) {
    response.SetHeader("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  }
  return response;
}

}  // namespace market::handlers
