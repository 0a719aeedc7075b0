#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/result.hpp"

namespace market::auth {

// Webhook signatures in Stripe's scheme, for the local gateway and the Stripe adapter alike: the
// header is "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>".

// The header value for delivering `body` at `timestamp` (unix seconds).
std::string SignWebhook(std::string_view secret, std::int64_t timestamp, std::string_view body);

// Checks a signature header against the raw body before anything in the body is read. Passes when
// the header is well formed, its timestamp is within `tolerance` of `now` (in either direction,
// so that a replayed delivery is refused) and any of its v1 signatures matches (several appear
// while a secret is being rolled). The comparison takes constant time. Every failure is
// kInvalidSignature with a message that says which check failed and nothing about the secret.
Result<void> VerifyWebhook(std::string_view header, std::string_view body, std::string_view secret,
                           TimePoint now, std::chrono::seconds tolerance = std::chrono::minutes(5));

}  // namespace market::auth
