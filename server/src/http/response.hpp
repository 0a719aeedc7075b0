#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "common/error.hpp"

namespace market::http {

struct Response {
  int status = 200;
  std::string content_type;  // empty for bodiless responses
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void SetHeader(std::string name, std::string value);
  std::string_view Header(std::string_view name) const;
};

Response Json(int status, const boost::json::value& body);
Response NoContent();
Response Text(int status, std::string content_type, std::string body);

// The one mapping of an Error to HTTP: status from its code and the standard error body
// {"error":{"code","message","fields"?}}, plus Retry-After for rate limits.
Response ErrorResponse(const Error& error);

}  // namespace market::http
