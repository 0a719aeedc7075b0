#pragma once

#include <string_view>

namespace market::http {

// Whether an If-None-Match header ("*" or a list of entity tags) matches `etag`, compared weakly
// (RFC 9110 §13.1.2): a W/ prefix on either side is ignored.
bool IfNoneMatchMatches(std::string_view header, std::string_view etag);

}  // namespace market::http
