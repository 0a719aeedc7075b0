#include "http/response.hpp"

#include <algorithm>
#include <cctype>

#include "common/text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace market::http {

void Response::SetHeader(std::string name, std::string value) {
  auto same = [&](const auto& header) { return EqualsIgnoreCase(header.first, name); };
  auto first = std::find_if(headers.begin(), headers.end(), same);
  if (first == headers.end()) {
    headers.emplace_back(std::move(name), std::move(value));
    return;
  }
  first->second = std::move(value);
  headers.erase(std::remove_if(std::next(first), headers.end(), same), headers.end());
}

std::string_view Response::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

Response Json(int status, const boost::json::value& body) {
  return Response{
      .status = status, .content_type = "application/json", .body = boost::json::serialize(body)};
}

Response NoContent() { return Response{.status = 204}; }

Response Text(int status, std::string content_type, std::string body) {
  return Response{
      .status = status, .content_type = std::move(content_type), .body = std::move(body)};
}

Response ErrorResponse(const Error& error) {
  boost::json::object inner;
  inner["code"] = CodeName(error.code);
  inner["message"] = error.message;
  if (!error.fields.empty()) {
    boost::json::array fields;
    for (const auto& field : error.fields) {
      fields.push_back(boost::json::object{{"field", field.field}, {"message", field.message}});
    }
    inner["fields"] = std::move(fields);
  }
  Response response =
      Json(HttpStatus(error.code), boost::json::object{{"error", std::move(inner)}});
  if (error.retry_after) {
    // Retry-After takes whole seconds; 0 would invite an immediate retry storm.
    response.SetHeader("Retry-After",
                       std::to_string(std::max<long long>(1, error.retry_after->count())));
  }
  return response;
}

}  // namespace market::http
