#include "handlers/uploads.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace market::handlers {
namespace {

http::Request Upload(std::string content_type, std::string body) {
  http::Request request;
  request.method = http::Method::kPost;
  if (!content_type.empty()) request.headers.emplace_back("content-type", std::move(content_type));
  request.body = std::move(body);
  return request;
}

std::string Part(std::string_view boundary, std::string_view disposition, std::string_view content,
                 std::string_view extra_headers = "") {
  return "--" + std::string(boundary) + "\r\nContent-Disposition: " + std::string(disposition) +
         "\r\n" + std::string(extra_headers) + "\r\n" + std::string(content) + "\r\n";
}

std::string Close(std::string_view boundary) { return "--" + std::string(boundary) + "--\r\n"; }

void ExpectImageRequired(const Result<std::string_view>& result) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kValidationFailed);
  ASSERT_EQ(result.error().fields.size(), 1u);
  EXPECT_EQ(result.error().fields[0], (FieldError{"image", "is required"}));
}

void ExpectCode(const Result<std::string_view>& result, ErrorCode code) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, code) << result.error().message;
}

TEST(ImageUploadBytes, TakesARawBodyForImageAndOctetStreamTypes) {
  for (std::string type : {"image/jpeg", "image/png", "image/webp", "application/octet-stream",
                           "IMAGE/JPEG", "image/png; charset=binary"}) {
    http::Request request = Upload(type, "\x89PNG bytes");
    auto result = ImageUploadBytes(request);
    ASSERT_TRUE(result.ok()) << type;
    EXPECT_EQ(*result, "\x89PNG bytes");
    EXPECT_EQ(result->data(), request.body.data()) << "a view, not a copy";
  }
}

TEST(ImageUploadBytes, RefusesAnEmptyRawBodyAsMissingImage) {
  http::Request request = Upload("image/jpeg", "");
  ExpectImageRequired(ImageUploadBytes(request));
}

TEST(ImageUploadBytes, RefusesOtherContentTypesWith415) {
  for (std::string type :
       {"", "application/json", "text/plain", "image/gif", "image/svg+xml", "multipart/mixed"}) {
    http::Request request = Upload(type, "bytes");
    ExpectCode(ImageUploadBytes(request), ErrorCode::kUnsupportedMediaType);
  }
}

TEST(ImageUploadBytes, TakesThePartNamedImageFromMultipart) {
  // Binary content with CRLFs, a NUL and a near-boundary must come through byte for byte.
  constexpr char kImage[] = "\xff\xd8\xff\r\n--almost-a-boundary\r\n\0x";
  const std::string image(kImage, sizeof kImage - 1);
  std::string boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
  std::string body = "preamble is ignored\r\n" +
                     Part(boundary, R"(form-data; name="title")", "A red shoe") +
                     Part(boundary, R"(form-data; name="image"; filename="shoe.jpg")", image,
                          "Content-Type: image/jpeg\r\n") +
                     Close(boundary);
  http::Request request = Upload("multipart/form-data; boundary=" + boundary, body);
  auto result = ImageUploadBytes(request);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, image);
}

TEST(ImageUploadBytes, AcceptsAFilePartAQuotedBoundaryAndCaseInsensitiveNames) {
  std::string boundary = "simple boundary:=?";
  std::string body = Part(boundary, R"(FORM-DATA; filename="a;b.png"; NAME=file)", "PNGDATA",
                          "content-type: image/png\r\n") +
                     Close(boundary);
  http::Request request =
      Upload(R"(Multipart/Form-Data; charset=utf-8; Boundary=")" + boundary + "\"", body);
  auto result = ImageUploadBytes(request);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, "PNGDATA");
}

TEST(ImageUploadBytes, TakesTheFirstMatchingPart) {
  std::string boundary = "b";
  std::string body = Part(boundary, R"(form-data; name="file")", "first") +
                     Part(boundary, R"(form-data; name="image")", "second") + Close(boundary);
  http::Request request = Upload("multipart/form-data; boundary=b", body);
  auto result = ImageUploadBytes(request);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "first");
}

TEST(ImageUploadBytes, ReportsAMissingOrEmptyImagePartOnTheImageField) {
  std::string boundary = "xyz";
  http::Request no_part =
      Upload("multipart/form-data; boundary=xyz",
             Part(boundary, R"(form-data; name="title")", "shoe") +
                 Part(boundary, R"(form-data; name="images")", "data") + Close(boundary));
  ExpectImageRequired(ImageUploadBytes(no_part));

  // What a browser sends for a file input left empty.
  http::Request empty_part = Upload("multipart/form-data; boundary=xyz",
                                    Part(boundary, R"(form-data; name="image"; filename="")", "",
                                         "Content-Type: "
                                         "application/octet-stream\r\n") +
                                        Close(boundary));
  ExpectImageRequired(ImageUploadBytes(empty_part));

  http::Request no_parts_at_all = Upload("multipart/form-data; boundary=xyz", Close(boundary));
  ExpectImageRequired(ImageUploadBytes(no_parts_at_all));
}

TEST(ImageUploadBytes, RefusesMalformedMultipartWith400) {
  std::string good_part = Part("b", R"(form-data; name="image")", "data");
  const std::pair<std::string, std::string> cases[] = {
      {"multipart/form-data", good_part + Close("b")},
      {"multipart/form-data; boundary=", good_part + Close("b")},
      {"multipart/form-data; boundary=\"unterminated", good_part + Close("b")},
      {"multipart/form-data; boundary=" + std::string(71, 'b'), good_part + Close("b")},
      {"multipart/form-data; boundary=b", "no boundary anywhere"},
      {"multipart/form-data; boundary=b",
       "--b\r\nContent-Disposition: form-data; name=\"image\""
       "\r\n\r\nunterminated part"},
      {"multipart/form-data; boundary=b", "--bgarbage\r\n\r\ndata\r\n--b--"},
      {"multipart/form-data; boundary=b", "--b\r\nno colon here\r\n\r\ndata\r\n--b--"},
      {"multipart/form-data; boundary=b",
       "--b\r\nContent-Disposition: form-data; name=\"image\r\n\r\ndata\r\n--b--"},
  };
  for (const auto& [type, body] : cases) {
    http::Request request = Upload(type, body);
    ExpectCode(ImageUploadBytes(request), ErrorCode::kBadRequest);
  }
}

}  // namespace
}  // namespace market::handlers
