#include "domain/users/user.hpp"

#include <algorithm>
#include <cctype>

#include "common/text.hpp"

namespace market::domain {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return out;
}

bool HasControlCharacters(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

}  // namespace

std::optional<std::size_t> Utf8Length(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = text[i];
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || i + len > text.size()) return std::nullopt;
    std::uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k) {
      unsigned char cc = text[i + k];
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return std::nullopt;
    i += len;
    ++count;
  }
  return count;
}

std::string NormalizeUsername(std::string_view username) { return Lower(Trim(username)); }

std::string NormalizeEmail(std::string_view email) { return Lower(Trim(email)); }

std::string NormalizeDisplayName(std::string_view display_name) {
  return std::string(Trim(display_name));
}

std::optional<std::string> CheckUsername(std::string_view username) {
  if (username.size() < 3 || username.size() > 30) return "must be 3 to 30 characters";
  bool allowed = std::all_of(username.begin(), username.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
  if (!allowed) return "may contain only letters, digits, '_', '.' and '-'";
  return std::nullopt;
}

std::optional<std::string> CheckEmail(std::string_view email) {
  if (email.empty()) return "is required";
  if (email.size() > kEmailMaxLength) return "must be at most 254 characters";
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos)
    return "must be a valid email address";
  std::string_view local = email.substr(0, at);
  std::string_view domain = email.substr(at + 1);
  if (local.size() > 64 || domain.size() < 3 || domain.find('.') == std::string_view::npos ||
      domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos)
    return "must be a valid email address";
  bool clean = std::all_of(email.begin(), email.end(), [](unsigned char c) {
    return c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '(' && c != ')' && c != ',' &&
           c != ';' && c != ':' && c != '\\' && c != '"' && c != '[' && c != ']';
  });
  if (!clean) return "must be a valid email address";
  return std::nullopt;
}

std::optional<std::string> CheckDisplayName(std::string_view display_name) {
  auto length = Utf8Length(display_name);
  if (!length) return "must be valid UTF-8";
  if (*length == 0) return "must not be empty";
  if (*length > kDisplayNameMaxLength) return "must be at most 80 characters";
  if (HasControlCharacters(display_name)) return "must not contain control characters";
  return std::nullopt;
}

std::optional<std::string> CheckPassword(std::string_view password, std::string_view username,
                                         std::string_view email) {
  auto length = Utf8Length(password);
  if (!length) return "must be valid UTF-8";
  if (*length < kPasswordMinLength) return "must be at least 8 characters";
  if (*length > kPasswordMaxLength) return "must be at most 128 characters";
  if (IsCommonPassword(password)) return "is too common; choose another";
  std::string lowered = Lower(password);
  if ((!username.empty() && lowered == Lower(username)) ||
      (!email.empty() && lowered == Lower(email)))
    return "must not be your username or email";
  return std::nullopt;
}

std::vector<FieldError> ValidateRegistration(Registration& r) {
  std::vector<FieldError> errors;
  r.email = NormalizeEmail(r.email);
  r.username = NormalizeUsername(r.username);
  if (auto m = CheckEmail(r.email)) errors.push_back({"email", *m});
  if (auto m = CheckUsername(r.username)) errors.push_back({"username", *m});
  if (auto m = CheckPassword(r.password, r.username, r.email)) errors.push_back({"password", *m});
  if (r.display_name) {
    r.display_name = NormalizeDisplayName(*r.display_name);
    if (auto m = CheckDisplayName(*r.display_name)) errors.push_back({"display_name", *m});
  }
  return errors;
}

std::vector<FieldError> ValidateProfilePatch(ProfilePatch& patch) {
  std::vector<FieldError> errors;
  if (patch.display_name) {
    patch.display_name = NormalizeDisplayName(*patch.display_name);
    if (auto m = CheckDisplayName(*patch.display_name)) errors.push_back({"display_name", *m});
  }
  if (patch.email) {
    patch.email = NormalizeEmail(*patch.email);
    if (auto m = CheckEmail(*patch.email)) errors.push_back({"email", *m});
  }
  return errors;
}

}  // namespace market::domain
