#pragma once

#include <boost/asio/thread_pool.hpp>

#include "http/router.hpp"
#include "services/listings/media.hpp"

namespace market::handlers {

// GET /media/{a}/{b}/{file}: stored media by key, read on `file_pool` (never on an io thread).
// Keys are content hashes, so answers are immutable: cached for a year, ETag the hash,
// If-None-Match answered 304. A malformed or unknown key is 404.
void AddMediaRoutes(http::Router& router, const services::MediaReader& media,
                    boost::asio::thread_pool& file_pool);

}  // namespace market::handlers
