#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace market::http {

// Decodes %XX escapes (and '+' as a space when `plus_as_space`, for query strings). Returns
// nothing for a malformed escape or a NUL byte, raw or encoded: no later layer should have to
// reason about either.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_as_space);

}  // namespace market::http
