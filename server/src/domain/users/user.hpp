#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/ids.hpp"

namespace market::domain {

struct User {
  UserId id;
  std::string username;
  std::string email;
  std::string display_name;
  TimePoint created_at;
  TimePoint updated_at;
};

// What a person types into the sign-up form, before normalisation.
struct Registration {
  std::string email;
  std::string username;
  std::string password;
  std::optional<std::string> display_name;
};

struct ProfilePatch {
  std::optional<std::string> display_name;
  std::optional<std::string> email;
};

inline constexpr std::size_t kPasswordMinLength = 8;
inline constexpr std::size_t kPasswordMaxLength = 128;
inline constexpr std::size_t kEmailMaxLength = 254;
inline constexpr std::size_t kDisplayNameMaxLength = 80;

// Lower-cased usernames and emails are what uniqueness is checked on.
std::string NormalizeUsername(std::string_view username);
std::string NormalizeEmail(std::string_view email);
// Trimmed; empty stays empty (and is then rejected).
std::string NormalizeDisplayName(std::string_view display_name);

// Each returns a message for the field, or nullopt when the (normalised) value is acceptable.
std::optional<std::string> CheckUsername(std::string_view username);
std::optional<std::string> CheckEmail(std::string_view email);
std::optional<std::string> CheckDisplayName(std::string_view display_name);
std::optional<std::string> CheckPassword(std::string_view password, std::string_view username,
                                         std::string_view email);

bool IsCommonPassword(std::string_view password);
// Length in Unicode code points of valid UTF-8; nullopt for invalid UTF-8.
std::optional<std::size_t> Utf8Length(std::string_view text);

// Normalises `registration` in place and returns every field error at once.
std::vector<FieldError> ValidateRegistration(Registration& registration);
std::vector<FieldError> ValidateProfilePatch(ProfilePatch& patch);

}  // namespace market::domain
