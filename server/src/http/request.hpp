#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace market::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view MethodName(Method method);
Method ParseMethod(std::string_view name);

// One HTTP request as handlers see it: no Beast types.
struct Request {
  Method method = Method::kGet;
  std::string target;  // as received: path and query
  std::string path;    // percent-decoded path without the query
  std::string query;   // raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_ip;
  std::string request_id;
  std::vector<std::pair<std::string, std::string>> path_params;  // filled by the router

  // Empty when absent. Names are matched case-insensitively.
  std::string_view Header(std::string_view name) const;
  std::string_view PathParam(std::string_view name) const;
  // The first value of a query parameter, percent-decoded; empty when absent.
  std::string QueryParam(std::string_view name) const;
};

}  // namespace market::http
