#include "handlers/uploads.hpp"

#include <string.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/text.hpp"

namespace market::handlers {
namespace {

using Parameters = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kMaxBoundaryLength = 70;  // RFC 2046 §5.1.1

Error ImageRequired() { return ValidationError({{"image", "is required"}}); }

Error MalformedMultipart(std::string message) {
  return MakeError(ErrorCode::kBadRequest, std::move(message));
}

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// glibc's memmem is linear in the worst case (two-way algorithm), so a hostile body full of
// near-boundaries costs no more than a scan.
std::size_t Find(std::string_view haystack, std::string_view needle, std::size_t from = 0) {
  if (from > haystack.size()) return std::string_view::npos;
  const void* hit =
      ::memmem(haystack.data() + from, haystack.size() - from, needle.data(), needle.size());
  return hit == nullptr ? std::string_view::npos
                        : static_cast<std::size_t>(static_cast<const char*>(hit) - haystack.data());
}

// `; name=value` pairs after a media type or disposition type (RFC 9110 §5.6.6), values as
// tokens or quoted strings with backslash escapes; names lower-cased. Nothing when malformed.
std::optional<Parameters> ParseParameters(std::string_view text) {
  Parameters out;
  for (;;) {
    text = Trim(text);
    if (text.empty()) return out;
    if (text.front() != ';') return std::nullopt;
    text = Trim(text.substr(1));
    if (text.empty() || text.front() == ';') continue;
    std::size_t equals = text.find('=');
    if (equals == std::string_view::npos) return std::nullopt;
    std::string_view name = Trim(text.substr(0, equals));
    if (name.empty()) return std::nullopt;
    text = text.substr(equals + 1);
    std::string value;
    if (!text.empty() && text.front() == '"') {
      std::size_t i = 1;
      for (; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i];
      }
      if (i == text.size()) return std::nullopt;
      text = text.substr(i + 1);
    } else {
      std::size_t end = text.find_first_of("; \t\"");
      value = std::string(text.substr(0, end));
      if (value.empty()) return std::nullopt;
      text = end == std::string_view::npos ? std::string_view{} : text.substr(end);
    }
    out.emplace_back(Lower(name), std::move(value));
  }
}

std::optional<std::string_view> Parameter(const Parameters& parameters, std::string_view name) {
  for (const auto& [key, value] : parameters) {
    if (key == name) return value;
  }
  return std::nullopt;
}

bool IsValidBoundary(std::string_view boundary) {
  if (boundary.empty() || boundary.size() > kMaxBoundaryLength || boundary.back() == ' ') {
    return false;
  }
  for (char c : boundary) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && std::string_view("'()+_,-./:=? ").find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// The field name of a part's headers ("" when it has no form-data disposition), or nothing
// when a header line is malformed.
std::optional<std::string> PartName(std::string_view headers) {
  std::string name;
  while (!headers.empty()) {
    std::size_t eol = Find(headers, "\r\n");
    std::string_view line = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view{} : headers.substr(eol + 2);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    if (!EqualsIgnoreCase(Trim(line.substr(0, colon)), "content-disposition")) continue;
    std::string_view value = Trim(line.substr(colon + 1));
    std::size_t semicolon = value.find(';');
    if (!EqualsIgnoreCase(Trim(value.substr(0, semicolon)), "form-data")) continue;
    if (semicolon == std::string_view::npos) continue;
    auto parameters = ParseParameters(value.substr(semicolon));
    if (!parameters) return std::nullopt;
    if (auto found = Parameter(*parameters, "name")) name = std::string(*found);
  }
  return name;
}

// RFC 2046 §5.1.1 framing, RFC 7578 semantics: preamble, parts each introduced by
// "--boundary" plus optional padding and CRLF, and "--boundary--" closing the body.
Result<std::string_view> FilePart(std::string_view body, std::string_view boundary) {
  std::string delimiter = "\r\n--" + std::string(boundary);
  std::size_t pos;
  if (body.substr(0, delimiter.size() - 2) == std::string_view(delimiter).substr(2)) {
    pos = delimiter.size() - 2;
  } else {
    pos = Find(body, delimiter);
    if (pos == std::string_view::npos) {
      return MalformedMultipart("The multipart body has no part with its boundary.");
    }
    pos += delimiter.size();
  }
  for (;;) {
    if (body.substr(pos, 2) == "--") return ImageRequired();
    while (pos < body.size() && IsSpace(body[pos])) ++pos;
    if (body.substr(pos, 2) != "\r\n") {
      return MalformedMultipart("The multipart body has a malformed boundary line.");
    }
    pos += 2;
    std::size_t end = Find(body, delimiter, pos);
    if (end == std::string_view::npos) {
      return MalformedMultipart("The multipart body ends before its closing boundary.");
    }
    std::string_view part = body.substr(pos, end - pos);
    pos = end + delimiter.size();

    std::string_view headers;
    std::string_view content;
    if (part.substr(0, 2) == "\r\n") {
      content = part.substr(2);
    } else if (std::size_t blank = Find(part, "\r\n\r\n"); blank != std::string_view::npos) {
      headers = part.substr(0, blank);
      content = part.substr(blank + 4);
    } else if (!part.empty()) {
      return MalformedMultipart("A multipart part has malformed headers.");
    }
    auto name = PartName(headers);
    if (!name) return MalformedMultipart("A multipart part has malformed headers.");
    if (*name == "image" || *name == "file") {
      if (content.empty()) return ImageRequired();
      return content;
    }
  }
}

}  // namespace

Result<std::string_view> ImageUploadBytes(const http::Request& request) {
  std::string_view content_type = request.Header("content-type");
  std::size_t semicolon = content_type.find(';');
  std::string_view type = Trim(content_type.substr(0, semicolon));
  std::string_view body = request.body;

  if (EqualsIgnoreCase(type, "image/jpeg") || EqualsIgnoreCase(type, "image/png") ||
      EqualsIgnoreCase(type, "image/webp") || EqualsIgnoreCase(type, "application/octet-stream")) {
    if (body.empty()) return ImageRequired();
    return body;
  }
  if (EqualsIgnoreCase(type, "multipart/form-data")) {
    std::optional<Parameters> parameters;
    if (semicolon != std::string_view::npos) {
      parameters = ParseParameters(content_type.substr(semicolon));
    }
    std::optional<std::string_view> boundary;
    if (parameters) boundary = Parameter(*parameters, "boundary");
    if (!boundary || !IsValidBoundary(*boundary)) {
      return MakeError(ErrorCode::kBadRequest,
                       "multipart/form-data needs a valid boundary parameter.");
    }
    return FilePart(body, *boundary);
  }
  return MakeError(ErrorCode::kUnsupportedMediaType,
                   "The body must be a JPEG, PNG or WebP image, or multipart/form-data.");
}

}  // namespace market::handlers
