#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace market {

// Expected outcomes of a request. Each has one stable machine name (the `code` of the error
// body) and one HTTP status; both are fixed here and nowhere else.
enum class ErrorCode {
  kBadRequest,
  kInvalidJson,
  kInvalidSignature,  // a webhook whose signature or timestamp does not check out
  kValidationFailed,
  kUnauthenticated,
  kInvalidCredentials,
  kInvalidToken,
  kTokenReused,
  kPaymentDeclined,    // the card was declined
  kInsufficientFunds,  // the card was declined for insufficient funds
  kForbidden,
  kNotFound,
  kMethodNotAllowed,
  kConflict,
  kPreconditionFailed,
  kPayloadTooLarge,
  kUnsupportedMediaType,
  kRateLimited,
  kInternal,
  kUnavailable,
};

std::string_view CodeName(ErrorCode code);
int HttpStatus(ErrorCode code);

struct FieldError {
  std::string field;
  std::string message;

  bool operator==(const FieldError&) const = default;
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::vector<FieldError> fields;
  // Set for kRateLimited: when the caller may try again.
  std::optional<std::chrono::seconds> retry_after;
};

Error MakeError(ErrorCode code, std::string message);
Error ValidationError(std::vector<FieldError> fields);
// `error` with `prefix` before each field name, for a part checked on its own and reported where
// it sits in the request (e.g. "shipping_address.").
Error WithFieldPrefix(Error error, std::string_view prefix);

}  // namespace market
