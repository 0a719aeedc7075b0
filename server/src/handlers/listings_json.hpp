#pragma once

#include <boost/json/object.hpp>

#include "domain/listings/browse.hpp"
#include "domain/listings/listing.hpp"
#include "http/response.hpp"
#include "services/listings/listings_service.hpp"

namespace market::handlers {

boost::json::object ImageJson(const domain::ListingImage& image);
boost::json::object ListingJson(const domain::Listing& listing);
// What a list card shows: to anyone, or to the listing's seller (plus status and quantity on
// hand, so that reserved = quantity - available).
enum class SummaryView { kPublic, kSeller };
boost::json::object SummaryJson(const domain::ListingSummary& summary,
                                SummaryView view = SummaryView::kPublic);
boost::json::object PageJson(const services::ListingPageResult& page,
                             SummaryView view = SummaryView::kPublic);
// The listing with its version as a strong ETag, which If-Match is compared against.
http::Response ListingResponse(int status, const domain::Listing& listing);

}  // namespace market::handlers
