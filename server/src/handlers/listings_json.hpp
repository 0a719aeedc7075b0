#pragma once

#include <boost/json/object.hpp>

#include "domain/listings/browse.hpp"
#include "domain/listings/listing.hpp"
#include "http/response.hpp"
#include "services/listings/listings_service.hpp"

namespace market::handlers {

boost::json::object ImageJson(const domain::ListingImage& image);
boost::json::object ListingJson(const domain::Listing& listing);
boost::json::object SummaryJson(const domain::ListingSummary& summary);
boost::json::object PageJson(const services::ListingPageResult& page);
// The listing with its version as a strong ETag, which If-Match is compared against.
http::Response ListingResponse(int status, const domain::Listing& listing);

}  // namespace market::handlers
