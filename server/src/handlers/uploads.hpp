#pragma once

#include <string_view>

#include "common/result.hpp"
#include "http/request.hpp"

namespace market::handlers {

// The uploaded image of a request, as a view into request.body. Accepted bodies: the raw image
// (Content-Type image/jpeg, image/png, image/webp or application/octet-stream), or
// multipart/form-data whose first part named "image" or "file" holds it. The declared types are
// only framing: whether the bytes are an image is decided by decoding them.
// Errors: 415 for any other Content-Type, 400 bad_request for broken multipart framing, 422 on
// field "image" when the image is missing or empty.
Result<std::string_view> ImageUploadBytes(const http::Request& request);

}  // namespace market::handlers
