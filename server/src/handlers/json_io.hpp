#pragma once

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "domain/users/user.hpp"
#include "http/request.hpp"
#include "http/response.hpp"
#include "services/accounts/auth_service.hpp"

namespace market::handlers {

// The body as a JSON object: 415 unless it is declared application/json, 400 invalid_json when
// it does not parse or is not an object.
Result<boost::json::object> ParseJsonObject(const http::Request& request);

// Reads the fields of a JSON body, collecting one error per bad field, so that a client learns
// about every problem in one answer.
class FieldReader {
 public:
  explicit FieldReader(const boost::json::object& object) : object_(object) {}

  std::string RequiredString(std::string_view name, std::size_t max_bytes = 4096);
  std::optional<std::string> OptionalString(std::string_view name, std::size_t max_bytes = 4096);
  // Whole JSON numbers only (3 and 3.0 are, 3.5 and "3" are not).
  std::optional<std::int64_t> OptionalInteger(std::string_view name);
  std::int64_t RequiredInteger(std::string_view name);
  std::optional<bool> OptionalBool(std::string_view name);
  // Fields not in `known` are errors; `fixed` ones get "cannot be changed".
  void RejectOthers(std::initializer_list<std::string_view> known,
                    std::initializer_list<std::string_view> fixed = {});
  void RejectOthers(const std::vector<std::string_view>& known);

  bool ok() const { return errors_.empty(); }
  Error error() const { return ValidationError(errors_); }

 private:
  const boost::json::object& object_;
  std::vector<FieldError> errors_;
};

services::ClientInfo ClientOf(const http::Request& request);

// `text` as a whole number, all of it (an optional leading '-', digits, nothing else), or nothing.
inline std::optional<std::int64_t> WholeNumber(std::string_view text) {
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// The path parameter `name` as a database id. Anything but a positive whole number names nothing
// and is answered like an id that does not exist (404).
template <class Id>
std::optional<Id> PathId(const http::Request& request, std::string_view name) {
  std::optional<std::int64_t> value = WholeNumber(request.PathParam(name));
  if (!value || *value <= 0) return std::nullopt;
  return Id{*value};
}

// RFC 3339 in UTC with milliseconds, e.g. 2026-11-29T12:55:57.123Z.
std::string FormatTime(TimePoint time);

boost::json::object MeJson(const domain::User& user);
boost::json::object PublicUserJson(const domain::User& user);
boost::json::object SessionJson(const services::Session& session);

// ErrorResponse plus the WWW-Authenticate challenge that 401s carry (RFC 6750).
http::Response AuthErrorResponse(const Error& error);

}  // namespace market::handlers
