#include "handlers/listings_json.hpp"

#include <boost/json.hpp>

#include "handlers/json_io.hpp"

namespace market::handlers {
namespace json = boost::json;

namespace {

std::string MediaUrl(const std::string& key) { return "/media/" + key; }

}  // namespace

json::object ImageJson(const domain::ListingImage& image) {
  return json::object{{"id", image.id.value},
                      {"position", image.position},
                      {"is_main", image.is_main},
                      {"format", image.format},
                      {"width", image.width},
                      {"height", image.height},
                      {"urls", json::object{{"original", MediaUrl(image.original_key)},
                                            {"small", MediaUrl(image.small_key)},
                                            {"large", MediaUrl(image.large_key)}}}};
}

json::object ListingJson(const domain::Listing& listing) {
  json::array images;
  for (const auto& image : listing.images) images.push_back(ImageJson(image));
  return json::object{
      {"id", listing.id.value},
      {"title", listing.title},
      {"description", listing.description},
      {"price_cents", listing.price_cents},
      {"currency", listing.currency},
      {"quantity", listing.quantity},
      {"available", listing.available()},
      {"category", listing.category},
      {"condition", domain::ConditionName(listing.condition)},
      {"status", domain::StatusName(listing.status)},
      {"version", listing.version},
      {"seller", json::object{{"id", listing.seller.id.value},
                              {"username", listing.seller.username},
                              {"display_name", listing.seller.display_name},
                              {"created_at", FormatTime(listing.seller.created_at)}}},
      {"images", std::move(images)},
      {"created_at", FormatTime(listing.created_at)},
      {"updated_at", FormatTime(listing.updated_at)}};
}

json::object SummaryJson(const domain::ListingSummary& summary, SummaryView view) {
  json::value main_image = nullptr;
  if (summary.main_image) main_image = ImageJson(*summary.main_image);
  json::object card{{"id", summary.id.value},
                    {"title", summary.title},
                    {"price_cents", summary.price_cents},
                    {"currency", summary.currency},
                    {"available", summary.available},
                    {"category", summary.category},
                    {"condition", domain::ConditionName(summary.condition)},
                    {"seller", json::object{{"username", summary.seller_username},
                                            {"display_name", summary.seller_display_name}}},
                    {"main_image", std::move(main_image)},
                    {"created_at", FormatTime(summary.created_at)}};
  if (view == SummaryView::kSeller) {
    card["status"] = domain::StatusName(summary.status);
    card["quantity"] = summary.quantity;
  }
  return card;
}

json::object PageJson(const services::ListingPageResult& page, SummaryView view) {
  json::array items;
  items.reserve(page.items.size());
  for (const auto& summary : page.items) items.push_back(SummaryJson(summary, view));
  json::value next = nullptr;
  if (page.next_cursor) next = *page.next_cursor;
  return json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}};
}

http::Response ListingResponse(int status, const domain::Listing& listing) {
  http::Response response = http::Json(status, ListingJson(listing));
  response.SetHeader("ETag", "\"" + std::to_string(listing.version) + "\"");
  return response;
}

}  // namespace market::handlers
