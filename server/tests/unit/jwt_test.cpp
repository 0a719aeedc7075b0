#include "auth/jwt.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>

namespace market::auth {
namespace {

using namespace std::chrono_literals;

const std::string kSecret(40, 'k');
const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

AccessClaims Claims() {
  return AccessClaims{.user_id = UserId{42},
                      .session_id = SessionFamilyId{7},
                      .issued_at = kNow,
                      .expires_at = kNow + 600s,
                      .jti = "abc"};
}

std::string Part(const std::string& token, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
  std::size_t end = token.find('.', start);
  return token.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string Decode(const std::string& part) {
  std::string out;
  EXPECT_TRUE(Base64UrlDecode(part, out));
  return out;
}

TEST(Jwt, RoundTripsClaims) {
  JwtCodec codec(kSecret, "marketplace");
  auto claims = codec.Verify(codec.Sign(Claims()), kNow + 1s);
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->user_id, UserId{42});
  EXPECT_EQ(claims->session_id, SessionFamilyId{7});
  EXPECT_EQ(claims->expires_at, kNow + 600s);
  EXPECT_EQ(claims->jti, "abc");
}

TEST(Jwt, PayloadCarriesRegisteredClaims) {
  JwtCodec codec(kSecret, "marketplace");
  auto payload = boost::json::parse(Decode(Part(codec.Sign(Claims()), 1))).as_object();
  EXPECT_EQ(payload.at("sub").as_string(), "42");
  EXPECT_EQ(payload.at("typ").as_string(), "access");
  EXPECT_TRUE(payload.contains("exp"));
  EXPECT_TRUE(payload.contains("iat"));
  EXPECT_TRUE(payload.contains("jti"));
  auto header = boost::json::parse(Decode(Part(codec.Sign(Claims()), 0))).as_object();
  EXPECT_EQ(header.at("alg").as_string(), "HS256");
}

TEST(Jwt, RejectsExpiredToken) {
  JwtCodec codec(kSecret, "marketplace");
  std::string token = codec.Sign(Claims());
  EXPECT_FALSE(codec.Verify(token, kNow + 600s).ok());
  EXPECT_EQ(codec.Verify(token, kNow + 601s).error().code, ErrorCode::kInvalidToken);
}

TEST(Jwt, RejectsWrongSignature) {
  JwtCodec signer(std::string(40, 'a'), "marketplace");
  JwtCodec verifier(std::string(40, 'b'), "marketplace");
  EXPECT_FALSE(verifier.Verify(signer.Sign(Claims()), kNow).ok());
}

TEST(Jwt, RejectsOtherIssuer) {
  JwtCodec signer(kSecret, "someone-else");
  JwtCodec verifier(kSecret, "marketplace");
  EXPECT_FALSE(verifier.Verify(signer.Sign(Claims()), kNow).ok());
}

TEST(Jwt, RejectsAlgNone) {
  JwtCodec codec(kSecret, "marketplace");
  std::string token = codec.Sign(Claims());
  std::string none = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + Part(token, 1) + ".";
  EXPECT_FALSE(codec.Verify(none, kNow).ok());
  EXPECT_FALSE(codec.Verify(none.substr(0, none.size() - 1), kNow).ok());
}

TEST(Jwt, RejectsOtherAlgorithmEvenWithValidMac) {
  // The algorithm-confusion attack: a token whose header claims another algorithm but whose MAC
  // was made with our secret must still be refused, because the header decides nothing.
  JwtCodec codec(kSecret, "marketplace");
  std::string token = codec.Sign(Claims());
  for (const char* alg : {"HS512", "RS256", "ES256", "EdDSA", "hs256"}) {
    std::string header = Base64UrlEncode(std::string(R"({"alg":")") + alg + R"(","typ":"JWT"})");
    std::string forged = header + "." + Part(token, 1) + "." + Part(token, 2);
    EXPECT_FALSE(codec.Verify(forged, kNow).ok()) << alg;
  }
}

TEST(Jwt, RejectsTamperedPayload) {
  JwtCodec codec(kSecret, "marketplace");
  std::string token = codec.Sign(Claims());
  auto payload = boost::json::parse(Decode(Part(token, 1))).as_object();
  payload["sub"] = "1";
  std::string tampered = Part(token, 0) + "." + Base64UrlEncode(boost::json::serialize(payload)) +
                         "." + Part(token, 2);
  EXPECT_FALSE(codec.Verify(tampered, kNow).ok());
}

// Signs `payload` exactly as the codec does, so that only the claim checks can refuse it.
std::string SignedWith(const std::string& secret, const boost::json::object& payload) {
  std::string input = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                      Base64UrlEncode(boost::json::serialize(payload));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), int(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), length));
}

TEST(Jwt, AcceptsAnIndependentlySignedToken) {
  JwtCodec codec(kSecret, "marketplace");
  auto payload = boost::json::parse(Decode(Part(codec.Sign(Claims()), 1))).as_object();
  EXPECT_TRUE(codec.Verify(SignedWith(kSecret, payload), kNow).ok());
}

TEST(Jwt, RejectsValidlySignedTokenOfAnotherTypeOrWithBadClaims) {
  JwtCodec codec(kSecret, "marketplace");
  auto original = boost::json::parse(Decode(Part(codec.Sign(Claims()), 1))).as_object();
  std::vector<std::pair<std::string, boost::json::value>> changes = {
      {"typ", "refresh"}, {"sub", 42},     {"sub", "-1"}, {"sub", "42x"},
      {"sid", nullptr},   {"exp", "soon"}, {"iat", 1.5},  {"jti", 7}};
  for (const auto& [claim, value] : changes) {
    auto payload = original;
    payload[claim] = value;
    EXPECT_FALSE(codec.Verify(SignedWith(kSecret, payload), kNow).ok())
        << claim << " = " << boost::json::serialize(value);
  }
  for (const char* claim : {"typ", "sub", "sid", "exp", "iat", "jti", "iss"}) {
    auto payload = original;
    payload.erase(claim);
    EXPECT_FALSE(codec.Verify(SignedWith(kSecret, payload), kNow).ok()) << "without " << claim;
  }
}

TEST(Jwt, RejectsMalformedTokens) {
  JwtCodec codec(kSecret, "marketplace");
  for (const char* bad :
       {"", ".", "..", "a.b.c", "a.b", "a.b.c.d", "!!!.???.***", "eyJhbGciOiJIUzI1NiJ9..sig"}) {
    EXPECT_FALSE(codec.Verify(bad, kNow).ok()) << bad;
  }
  EXPECT_FALSE(codec.Verify(std::string(10000, 'a'), kNow).ok());
}

TEST(Jwt, RejectsTokenIssuedInTheFuture) {
  JwtCodec codec(kSecret, "marketplace");
  AccessClaims claims = Claims();
  claims.issued_at = kNow + 3600s;
  claims.expires_at = kNow + 4200s;
  EXPECT_FALSE(codec.Verify(codec.Sign(claims), kNow).ok());
}

TEST(Base64Url, RoundTripsAllLengths) {
  std::string bytes;
  for (int i = 0; i < 20; ++i) {
    std::string out;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(bytes), out));
    EXPECT_EQ(out, bytes);
    bytes += char(i * 37);
  }
}

}  // namespace
}  // namespace market::auth
