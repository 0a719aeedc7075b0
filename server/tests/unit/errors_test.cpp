#include <gtest/gtest.h>

#include <set>

#include "common/error.hpp"

namespace market {
namespace {

TEST(ErrorMapping, EveryCodeHasAStableNameAndStatus) {
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(ErrorCode::kUnavailable); ++i) {
    auto code = static_cast<ErrorCode>(i);
    EXPECT_TRUE(names.insert(CodeName(code)).second) << CodeName(code);
    EXPECT_GE(HttpStatus(code), 400);
    EXPECT_LE(HttpStatus(code), 503);
  }
}

TEST(ErrorMapping, MapsCodesToStatuses) {
  EXPECT_EQ(HttpStatus(ErrorCode::kInvalidJson), 400);
  EXPECT_EQ(HttpStatus(ErrorCode::kInvalidCredentials), 401);
  EXPECT_EQ(HttpStatus(ErrorCode::kTokenReused), 401);
  EXPECT_EQ(HttpStatus(ErrorCode::kForbidden), 403);
  EXPECT_EQ(HttpStatus(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatus(ErrorCode::kConflict), 409);
  EXPECT_EQ(HttpStatus(ErrorCode::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatus(ErrorCode::kValidationFailed), 422);
  EXPECT_EQ(HttpStatus(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(HttpStatus(ErrorCode::kInternal), 500);
  EXPECT_EQ(HttpStatus(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(CodeName(ErrorCode::kValidationFailed), "validation_failed");
  EXPECT_EQ(CodeName(ErrorCode::kTokenReused), "token_reused");
}

TEST(ErrorMapping, WithFieldPrefixNamesFieldsWhereTheySit) {
  Error error = WithFieldPrefix(ValidationError({{"city", "was not found"}, {"phone", "bad"}}),
                                "shipping_address.");
  EXPECT_EQ(error.code, ErrorCode::kValidationFailed);
  ASSERT_EQ(error.fields.size(), 2u);
  EXPECT_EQ(error.fields[0].field, "shipping_address.city");
  EXPECT_EQ(error.fields[0].message, "was not found");
  EXPECT_EQ(error.fields[1].field, "shipping_address.phone");
}

TEST(ErrorMapping, ValidationErrorCarriesFields) {
  Error error = ValidationError({{"email", "is required"}});
  EXPECT_EQ(error.code, ErrorCode::kValidationFailed);
  ASSERT_EQ(error.fields.size(), 1u);
  EXPECT_EQ(error.fields[0].field, "email");
}

}  // namespace
}  // namespace market
