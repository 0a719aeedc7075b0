#include "common/error.hpp"

namespace market {

std::string_view CodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
      return "bad_request";
    case ErrorCode::kInvalidJson:
      return "invalid_json";
    case ErrorCode::kInvalidSignature:
      return "invalid_signature";
    case ErrorCode::kPaymentDeclined:
      return "card_declined";
    case ErrorCode::kInsufficientFunds:
      return "insufficient_funds";
    case ErrorCode::kValidationFailed:
      return "validation_failed";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kInvalidCredentials:
      return "invalid_credentials";
    case ErrorCode::kInvalidToken:
      return "invalid_token";
    case ErrorCode::kTokenReused:
      return "token_reused";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kMethodNotAllowed:
      return "method_not_allowed";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kPreconditionFailed:
      return "precondition_failed";
    case ErrorCode::kPayloadTooLarge:
      return "payload_too_large";
    case ErrorCode::kUnsupportedMediaType:
      return "unsupported_media_type";
    case ErrorCode::kRateLimited:
      return "rate_limited";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kUnavailable:
      return "unavailable";
  }
  return "internal";
}

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadRequest:
    case ErrorCode::kInvalidJson:
    case ErrorCode::kInvalidSignature:
      return 400;
    case ErrorCode::kPaymentDeclined:
    case ErrorCode::kInsufficientFunds:
      return 402;
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kInvalidCredentials:
    case ErrorCode::kInvalidToken:
    case ErrorCode::kTokenReused:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPreconditionFailed:
      return 412;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kUnsupportedMediaType:
      return 415;
    case ErrorCode::kValidationFailed:
      return 422;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kInternal:
      return 500;
    case ErrorCode::kUnavailable:
      return 503;
  }
  return 500;
}

Error MakeError(ErrorCode code, std::string message) {
  return Error{.code = code, .message = std::move(message)};
}

Error ValidationError(std::vector<FieldError> fields) {
  return Error{.code = ErrorCode::kValidationFailed,
               .message = "The request has invalid fields.",
               .fields = std::move(fields)};
}

Error WithFieldPrefix(Error error, std::string_view prefix) {
  for (auto& field : error.fields) field.field.insert(0, prefix);
  return error;
}

}  // namespace market
