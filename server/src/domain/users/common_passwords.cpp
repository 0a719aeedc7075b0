#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <string_view>

#include "domain/users/user.hpp"

namespace market::domain {
namespace {

// Passwords of at least 8 characters that lead the public lists of leaked passwords, plus
// obvious site-specific ones. Shorter common passwords are already refused by the length rule.
// Sorted and lower-case: looked up by binary search, case-insensitively.
constexpr std::array<std::string_view, 252> kCommonPasswords = {
    "00000000",    "000000000",    "0000000000",     "11111111",    "111111111",
    "1111111111",  "11223344",     "112233445566",   "123123123",   "123321123",
    "12341234",    "12344321",     "12345678",       "123456789",   "1234567890",
    "12345678910", "123456qwerty", "123654789",      "123abc123",   "123qweasd",
    "13579246",    "147258369",    "159753456",      "1a2b3c4d",    "1q2w3e4r",
    "1q2w3e4r5t",  "1q2w3e4r5t6y", "1qaz2wsx",       "456789123",   "741852963",
    "789456123",   "87654321",     "88888888",       "951753852",   "987654321",
    "9876543210",  "a1b2c3d4",     "aa123456",       "aa12345678",  "aaaaaaaa",
    "abc12345",    "abc123456",    "abc123abc",      "abcd1234",    "abcdefg1",
    "abcdefgh",    "access14",     "admin123",       "admin1234",   "administrator",
    "alexander",   "alexandra",    "amazon123",      "angel123",    "anthony1",
    "apple123",    "arsenal1",     "asdasdasd",      "asdf1234",    "asdfghjk",
    "asdfghjkl",   "ashley12",     "autumn2025",     "babygirl",    "babygirl1",
    "baseball",    "basketball",   "batman123",      "beautiful",   "benjamin",
    "blink182",    "butterfly",    "changeme",       "changeme1",   "changeme123",
    "charlie1",    "chelsea1",     "christian",      "computer",    "computer1",
    "contrasena",  "contraseña",   "corvette",       "cowboys1",    "cristina",
    "daniel12",    "danielle",     "december1",      "default1",    "demo1234",
    "dragon123",   "eagles12",     "ebay1234",       "elizabeth",   "facebook1",
    "ferrari1",    "fishing1",     "football",       "football1",   "fortnite",
    "freedom1",    "gfhjkm123",    "golfer12",       "google123",   "guest123",
    "harley12",    "hello123",     "hello1234",      "helloworld",  "hockey12",
    "hunter12",    "hunter123",    "iloveyou",       "iloveyou1",   "iloveyou2",
    "instagram",   "internet",     "ironman1",       "jackson1",    "january1",
    "jennifer",    "jessica1",     "jonathan",       "jordan23",    "killer123",
    "lakers24",    "letmein1",     "letmein123",     "letmeinnow",  "linkedin1",
    "liverpool",   "lovelove",     "lovely12",       "loveyou1",    "manchester",
    "marketplace", "marketplace1", "marketplace123", "master123",   "matthew1",
    "maverick",    "mercedes",     "metallica",      "michael1",    "michelle",
    "microsoft",   "midnight",     "minecraft",      "minecraft1",  "monkey123",
    "motdepasse",  "mustang1",     "mypassword",     "mypassword1", "netflix1",
    "newpassword", "nicole12",     "nirvana1",       "p@ssw0rd",    "p@ssword",
    "pa$$word",    "pa55w0rd",     "pa55word",       "passpass",    "passw0rd",
    "password",    "password!",    "password01",     "password1",   "password12",
    "password123", "password1234", "password2",      "password3",   "passwort",
    "pokemon1",    "pokemon123",   "porsche1",       "princess",    "princess1",
    "purple12",    "q1w2e3r4",     "q1w2e3r4t5",     "qazwsxedc",   "qqqqqqqq",
    "qwe12345",    "qweasdzxc",    "qweqweqwe",      "qwerty12",    "qwerty123",
    "qwerty1234",  "qwerty123456", "qwertyqwerty",   "qwertyui",    "qwertyuiop",
    "rainbow1",    "roblox123",    "root1234",       "salasana",    "samantha",
    "samsung1",    "secret123",    "secretpassword", "senha123",    "shadow123",
    "shopping",    "shopping1",    "slipknot",       "soccer12",    "spiderman",
    "spring2025",  "starbucks",    "starwars",       "steelers",    "summer2024",
    "summer2025",  "summer2026",   "sunshine",       "sunshine1",   "superman",
    "sweetheart",  "tennis12",     "test1234",       "test12345",   "tester123",
    "testtest",    "thomas12",     "toor1234",       "trustno1",    "twitter1",
    "user1234",    "victoria",     "wachtwoord",     "welcome1",    "welcome123",
    "welcome2024", "welcome2025",  "welcome2026",    "whatever",    "whatever1",
    "william1",    "winter2024",   "winter2025",     "winter2026",  "yamaha123",
    "yankees1",    "youtube1",     "zaq12wsx",       "zaq1zaq1",    "zxcvbnm1",
    "zxcvbnm123",  "zzzzzzzz",
};

}  // namespace

bool IsCommonPassword(std::string_view password) {
  std::string lowered(password);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return std::binary_search(kCommonPasswords.begin(), kCommonPasswords.end(), lowered);
}

}  // namespace market::domain
