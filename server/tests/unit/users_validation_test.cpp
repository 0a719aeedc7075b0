#include <gtest/gtest.h>

#include "auth/password.hpp"
#include "domain/users/user.hpp"

namespace market::domain {
namespace {

TEST(UsernamePolicy, AcceptsAllowedCharactersAndLengths) {
  EXPECT_FALSE(CheckUsername("abc"));
  EXPECT_FALSE(CheckUsername("a.b-c_d9"));
  EXPECT_FALSE(CheckUsername(std::string(30, 'x')));
}

TEST(UsernamePolicy, RejectsBadLengthsAndCharacters) {
  EXPECT_TRUE(CheckUsername("ab"));
  EXPECT_TRUE(CheckUsername(std::string(31, 'x')));
  EXPECT_TRUE(CheckUsername("has space"));
  EXPECT_TRUE(CheckUsername("Upper"));  // callers normalise first
  EXPECT_TRUE(CheckUsername("émile"));
  EXPECT_TRUE(CheckUsername("a/b"));
}

TEST(UsernamePolicy, NormalisesToLowerCase) { EXPECT_EQ(NormalizeUsername(" AliCe "), "alice"); }

TEST(EmailPolicy, NormalisesAndValidates) {
  EXPECT_EQ(NormalizeEmail("  Bob@Example.COM "), "bob@example.com");
  EXPECT_FALSE(CheckEmail("bob@example.com"));
  EXPECT_TRUE(CheckEmail(""));
  EXPECT_TRUE(CheckEmail("bob"));
  EXPECT_TRUE(CheckEmail("bob@"));
  EXPECT_TRUE(CheckEmail("@example.com"));
  EXPECT_TRUE(CheckEmail("bob@@example.com"));
  EXPECT_TRUE(CheckEmail("bob@localhost"));
  EXPECT_TRUE(CheckEmail("bob@exa..mple.com"));
  EXPECT_TRUE(CheckEmail("bo b@example.com"));
  EXPECT_TRUE(CheckEmail(std::string(250, 'a') + "@example.com"));
}

TEST(PasswordPolicy, EnforcesLengthInCharacters) {
  EXPECT_TRUE(CheckPassword("Short1!", "alice", "a@example.com"));
  EXPECT_FALSE(CheckPassword("Tr0ub4dor&3x", "alice", "a@example.com"));
  EXPECT_FALSE(CheckPassword(std::string(128, 'q') + "", "alice", "a@example.com"));
  EXPECT_TRUE(CheckPassword(std::string(129, 'q'), "alice", "a@example.com"));
  // Eight characters of two bytes each: 16 bytes but 8 characters, so accepted.
  EXPECT_FALSE(CheckPassword("éééééééé", "alice", "a@example.com"));
  EXPECT_TRUE(CheckPassword("éééé", "alice", "a@example.com"));
}

TEST(PasswordPolicy, RejectsCommonPasswordsCaseInsensitively) {
  for (const char* common :
       {"password123", "PASSWORD123", "qwerty123", "12345678", "iloveyou", "Marketplace1"}) {
    EXPECT_TRUE(IsCommonPassword(common)) << common;
    EXPECT_TRUE(CheckPassword(common, "alice", "a@example.com")) << common;
  }
  EXPECT_FALSE(IsCommonPassword("correct horse battery staple"));
}

TEST(PasswordPolicy, RejectsUsernameOrEmailAsPassword) {
  EXPECT_TRUE(CheckPassword("alice.smith", "alice.smith", "a@example.com"));
  EXPECT_TRUE(CheckPassword("ALICE@EXAMPLE.COM", "alice", "alice@example.com"));
}

TEST(PasswordPolicy, RejectsInvalidUtf8) {
  EXPECT_TRUE(CheckPassword(std::string("abcdefgh\xff"), "alice", "a@example.com"));
}

TEST(DisplayNamePolicy, TrimsAndLimits) {
  EXPECT_EQ(NormalizeDisplayName("  Alice  "), "Alice");
  EXPECT_TRUE(CheckDisplayName(""));
  EXPECT_TRUE(CheckDisplayName(std::string(81, 'a')));
  EXPECT_FALSE(CheckDisplayName(std::string(80, 'a')));
  EXPECT_TRUE(CheckDisplayName("bad\x01name"));
}

TEST(Registration, ReportsEveryBadFieldAtOnce) {
  Registration r{.email = "nope", .username = "x", .password = "short", .display_name = " "};
  auto errors = ValidateRegistration(r);
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].field, "email");
  EXPECT_EQ(errors[1].field, "username");
  EXPECT_EQ(errors[2].field, "password");
  EXPECT_EQ(errors[3].field, "display_name");
}

TEST(Registration, NormalisesValidInput) {
  Registration r{
      .email = " Alice@Example.com", .username = "Alice", .password = "a long pass phrase"};
  EXPECT_TRUE(ValidateRegistration(r).empty());
  EXPECT_EQ(r.email, "alice@example.com");
  EXPECT_EQ(r.username, "alice");
}

TEST(Utf8, CountsCodePointsAndRejectsMalformed) {
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("h\xc3\xa9"), 2u);
  EXPECT_EQ(Utf8Length("\xf0\x9f\x98\x80"), 1u);
  EXPECT_FALSE(Utf8Length("\xc0\xaf"));      // overlong
  EXPECT_FALSE(Utf8Length("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(Utf8Length("\xe2\x82"));      // truncated
}

TEST(PasswordHasher, HashesWithArgon2idAndVerifies) {
  auth::PasswordHasher hasher;
  std::string hash = hasher.Hash("a long pass phrase");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(hasher.Verify(hash, "a long pass phrase"));
  EXPECT_FALSE(hasher.Verify(hash, "a long pass phrasE"));
  EXPECT_NE(hasher.Hash("a long pass phrase"), hash);  // salted
  EXPECT_FALSE(hasher.Verify("not a hash", "x"));
}

}  // namespace
}  // namespace market::domain
