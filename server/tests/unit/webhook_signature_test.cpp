#include "auth/webhook_signature.hpp"

#include <gtest/gtest.h>

#include <string>

namespace market::auth {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kSecret = "whsec_test_secret";
constexpr std::string_view kBody = R"({"id":"evt_1"})";
constexpr std::int64_t kTimestamp = 1'700'000'000;
const TimePoint kSignedAt = TimePoint(std::chrono::seconds(kTimestamp));
// HMAC-SHA256("whsec_test_secret", "1700000000." + kBody), computed with Python's hmac module.
constexpr std::string_view kExpectedHex =
    "248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a";

void ExpectInvalid(const Result<void>& result) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidSignature);
  EXPECT_FALSE(result.error().message.empty());
}

TEST(WebhookSignature, SignsAsStripeDoes) {
  EXPECT_EQ(SignWebhook(kSecret, kTimestamp, kBody),
            "t=1700000000,v1=" + std::string(kExpectedHex));
}

TEST(WebhookSignature, AcceptsItsOwnSignature) {
  const std::string header = SignWebhook(kSecret, kTimestamp, kBody);
  EXPECT_TRUE(VerifyWebhook(header, kBody, kSecret, kSignedAt).ok());
  EXPECT_TRUE(VerifyWebhook(header, kBody, kSecret, kSignedAt + 299s).ok());
}

TEST(WebhookSignature, AcceptsAnyMatchingSignatureAmongSeveral) {
  const std::string good = std::string(kExpectedHex);
  const std::string other(64, 'a');
  const std::string header = "t=1700000000,v1=" + other + ",v1=" + good + ",v0=" + other;
  EXPECT_TRUE(VerifyWebhook(header, kBody, kSecret, kSignedAt).ok());
  const std::string good_first = "t=1700000000,v1=" + good + ",v1=" + other;
  EXPECT_TRUE(VerifyWebhook(good_first, kBody, kSecret, kSignedAt).ok());
}

TEST(WebhookSignature, AcceptsUpperCaseHex) {
  std::string upper(kExpectedHex);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(VerifyWebhook("t=1700000000,v1=" + upper, kBody, kSecret, kSignedAt).ok());
}

TEST(WebhookSignature, RejectsAnotherSecret) {
  const std::string header = SignWebhook("whsec_other", kTimestamp, kBody);
  ExpectInvalid(VerifyWebhook(header, kBody, kSecret, kSignedAt));
}

TEST(WebhookSignature, RejectsATamperedBody) {
  const std::string header = SignWebhook(kSecret, kTimestamp, kBody);
  ExpectInvalid(VerifyWebhook(header, R"({"id":"evt_2"})", kSecret, kSignedAt));
  ExpectInvalid(VerifyWebhook(header, std::string(kBody) + " ", kSecret, kSignedAt));
  ExpectInvalid(VerifyWebhook(header, "", kSecret, kSignedAt));
}

TEST(WebhookSignature, RejectsATamperedTimestamp) {
  // The timestamp is signed: moving it forward (to pass the tolerance check) breaks the MAC.
  const std::string header = "t=1700000001,v1=" + std::string(kExpectedHex);
  ExpectInvalid(VerifyWebhook(header, kBody, kSecret, kSignedAt));
}

TEST(WebhookSignature, RejectsTimestampsOutsideTheTolerance) {
  const std::string header = SignWebhook(kSecret, kTimestamp, kBody);
  ExpectInvalid(VerifyWebhook(header, kBody, kSecret, kSignedAt + 301s));
  ExpectInvalid(VerifyWebhook(header, kBody, kSecret, kSignedAt - 301s));
  ExpectInvalid(VerifyWebhook(header, kBody, kSecret, kSignedAt + 24h));
  EXPECT_TRUE(VerifyWebhook(header, kBody, kSecret, kSignedAt - 300s).ok());
  EXPECT_TRUE(VerifyWebhook(header, kBody, kSecret, kSignedAt + 300s).ok());
  ExpectInvalid(VerifyWebhook(header, kBody, kSecret, kSignedAt + 11s, 10s));
}

TEST(WebhookSignature, RejectsAHugeTimestampWithoutOverflow) {
  const std::string header = SignWebhook(kSecret, INT64_MAX, kBody);
  ExpectInvalid(VerifyWebhook(header, kBody, kSecret, kSignedAt));
}

TEST(WebhookSignature, RejectsMalformedHeaders) {
  const std::string sig = std::string(kExpectedHex);
  for (const std::string& header : {
           std::string(""), std::string("garbage"),
           "v1=" + sig,                                   // no timestamp
           std::string("t=1700000000"),                   // no signature
           "t=1700000000,v0=" + sig,                      // no v1 signature
           "t=abc,v1=" + sig,                             // timestamp not a number
           "t=,v1=" + sig,                                // empty timestamp
           "t=-5,v1=" + sig,                              // negative timestamp
           "t=1700000000x,v1=" + sig,                     // trailing junk
           "t=1700000000,t=1700000000,v1=" + sig,         // two timestamps
           "t=1700000000,,v1=" + sig,                     // empty item
           "t=1700000000,=x,v1=" + sig,                   // empty key
           "t=1700000000,v1=" + sig + ",",                // trailing comma
           "t=1700000000,v1=" + sig.substr(0, 63),        // short signature
           "t=1700000000,v1=" + sig.substr(0, 63) + "g",  // not hex
           "t=1700000000,v1=" + sig + "00",               // long signature
           "t=1700000000 ,v1=" + sig,                     // spaces are not allowed
       }) {
    SCOPED_TRACE(header);
    ExpectInvalid(VerifyWebhook(header, kBody, kSecret, kSignedAt));
  }
}

TEST(WebhookSignature, RejectsOverlongHeadersAndTooManySignatures) {
  std::string many = "t=1700000000";
  for (int i = 0; i < 9; ++i) many += ",v1=" + std::string(64, 'b');
  many += ",v1=" + std::string(kExpectedHex);
  ExpectInvalid(VerifyWebhook(many, kBody, kSecret, kSignedAt));
  const std::string longest =
      "t=1700000000,v1=" + std::string(kExpectedHex) + ",x=" + std::string(3000, 'x');
  ExpectInvalid(VerifyWebhook(longest, kBody, kSecret, kSignedAt));
}

TEST(WebhookSignature, RejectsEverythingWithoutASecret) {
  const std::string header = SignWebhook("", kTimestamp, kBody);
  ExpectInvalid(VerifyWebhook(header, kBody, "", kSignedAt));
}

TEST(WebhookSignature, SignsTheEmptyBody) {
  const std::string header = SignWebhook(kSecret, kTimestamp, "");
  EXPECT_TRUE(VerifyWebhook(header, "", kSecret, kSignedAt).ok());
  ExpectInvalid(VerifyWebhook(header, "x", kSecret, kSignedAt));
}

}  // namespace
}  // namespace market::auth
