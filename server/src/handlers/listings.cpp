#include "handlers/listings.hpp"

#include <boost/json.hpp>

#include <limits>

#include "handlers/json_io.hpp"
#include "handlers/listings_json.hpp"
#include "handlers/uploads.hpp"

namespace market::handlers {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;
using services::AuthService;
using services::ListingsService;
using services::Principal;

constexpr std::size_t kDescriptionMaxBytes = 5000 * 4;

std::optional<ListingId> PathListingId(const Request& request) {
  return PathId<ListingId>(request, "id");
}

Error NoSuchListing() { return MakeError(ErrorCode::kNotFound, "No such listing."); }

// The version in If-Match ("3"); "*" or no header: nullopt. Anything else can never match the
// strong ETag we send, so it is a stale precondition.
Result<std::optional<int>> IfMatchVersion(const Request& request) {
  std::string_view value = request.Header("if-match");
  if (value.empty() || value == "*") return std::optional<int>();
  if (value.size() >= 3 && value.front() == '"' && value.back() == '"') {
    std::optional<std::int64_t> version = WholeNumber(value.substr(1, value.size() - 2));
    if (version && *version > 0 && *version <= std::numeric_limits<int>::max())
      return std::optional<int>(static_cast<int>(*version));
  }
  return MakeError(ErrorCode::kPreconditionFailed,
                   "If-Match must be the ETag of the listing, e.g. \"3\".");
}

Result<domain::BrowseQuery> ParseBrowseQuery(const Request& request) {
  domain::BrowseQuery query;
  std::vector<FieldError> errors;
  auto text = [&request](std::string_view name) -> std::optional<std::string> {
    std::string value = request.QueryParam(name);
    if (value.empty()) return std::nullopt;
    return value;
  };
  auto number = [&](std::string_view name) -> std::optional<std::int64_t> {
    auto value = text(name);
    if (!value) return std::nullopt;
    std::optional<std::int64_t> n = WholeNumber(*value);
    if (!n) errors.push_back({std::string(name), "must be a whole number"});
    return n;
  };
  if (auto q = text("q")) {
    std::string trimmed = domain::NormalizeDisplayName(*q);
    if (!trimmed.empty()) query.q = std::move(trimmed);
  }
  if (auto seller = text("seller")) query.seller = domain::NormalizeUsername(*seller);
  query.category = text("category");
  if (auto condition = text("condition")) {
    query.condition = domain::ParseCondition(*condition);
    if (!query.condition) errors.push_back({"condition", "must be new, like_new, good or fair"});
  }
  query.min_price = number("min_price");
  query.max_price = number("max_price");
  if (auto in_stock = text("in_stock")) {
    if (*in_stock == "true") {
      query.in_stock = true;
    } else if (*in_stock != "false") {
      errors.push_back({"in_stock", "must be true or false"});
    }
  }
  // Searching sorts by relevance unless told otherwise; browsing by newest.
  query.sort = query.q ? domain::ListingSort::kRelevance : domain::ListingSort::kNewest;
  if (auto sort = text("sort")) {
    auto parsed = domain::ParseSort(*sort);
    if (parsed) {
      query.sort = *parsed;
    } else {
      errors.push_back({"sort", "must be newest, price_asc, price_desc or relevance"});
    }
  }
  if (auto limit = number("limit")) {
    query.limit = *limit >= 1 && *limit <= domain::kMaxPageSize ? static_cast<int>(*limit) : 0;
  }
  if (!errors.empty()) return ValidationError(std::move(errors));
  return query;
}

std::optional<std::string> CursorParam(const Request& request) {
  std::string cursor = request.QueryParam("cursor");
  if (cursor.empty()) return std::nullopt;
  return cursor;
}

void ReadListingFields(FieldReader& fields, domain::ListingPatch& patch) {
  patch.title = fields.OptionalString("title", 1024);
  patch.description = fields.OptionalString("description", kDescriptionMaxBytes);
  patch.price_cents = fields.OptionalInteger("price_cents");
  patch.currency = fields.OptionalString("currency", 16);
  patch.quantity = fields.OptionalInteger("quantity");
  patch.category = fields.OptionalString("category", 64);
  patch.condition = fields.OptionalString("condition", 32);
}

// Anything but the editable fields is refused, the read-only ones with "cannot be changed".
void RejectNonEditable(FieldReader& fields) {
  fields.RejectOthers(
      {"title", "description", "price_cents", "currency", "quantity", "category", "condition"},
      {"id", "seller", "status", "version", "available", "images", "created_at", "updated_at"});
}

Task<Response> ListCategories(Request&) {
  json::array items;
  for (const auto& category : domain::Categories()) {
    items.push_back(json::object{{"slug", category.slug}, {"name", category.name}});
  }
  co_return http::Json(200, json::object{{"items", std::move(items)}});
}

Task<Response> CreateListing(AuthService& auth, ListingsService& listings, Request& request) {
  auto seller = co_await auth.Authenticate(request.Header("authorization"));
  if (!seller.ok()) co_return AuthErrorResponse(seller.error());
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  FieldReader fields(*body);
  domain::ListingDraft draft{
      .title = fields.RequiredString("title", 1024),
      .description = fields.OptionalString("description", kDescriptionMaxBytes).value_or(""),
      .price_cents = fields.RequiredInteger("price_cents"),
      .currency = fields.OptionalString("currency", 16).value_or(""),
      .quantity = fields.RequiredInteger("quantity"),
      .category = fields.RequiredString("category", 64),
      .condition = fields.RequiredString("condition", 32)};
  RejectNonEditable(fields);
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());

  auto listing = co_await listings.Create(*seller, std::move(draft));
  if (!listing.ok()) co_return http::ErrorResponse(listing.error());
  Response response = ListingResponse(201, *listing);
  response.SetHeader("Location", "/api/v1/listings/" + std::to_string(listing->id.value));
  co_return response;
}

Task<Response> GetListing(AuthService& auth, ListingsService& listings, Request& request) {
  auto id = PathListingId(request);
  if (!id) co_return http::ErrorResponse(NoSuchListing());
  // Signed-in sellers also see their own inactive listings; a bad token is an error, not a
  // silent downgrade to anonymous.
  std::optional<Principal> viewer;
  if (std::string_view authorization = request.Header("authorization"); !authorization.empty()) {
    auto principal = co_await auth.Authenticate(authorization);
    if (!principal.ok()) co_return AuthErrorResponse(principal.error());
    viewer = std::move(principal).value();
  }
  auto listing = co_await listings.Get(*id, viewer);
  if (!listing.ok()) co_return http::ErrorResponse(listing.error());
  co_return ListingResponse(200, *listing);
}

Task<Response> PatchListing(AuthService& auth, ListingsService& listings, Request& request) {
  auto seller = co_await auth.Authenticate(request.Header("authorization"));
  if (!seller.ok()) co_return AuthErrorResponse(seller.error());
  auto id = PathListingId(request);
  if (!id) co_return http::ErrorResponse(NoSuchListing());
  auto if_match = IfMatchVersion(request);
  if (!if_match.ok()) co_return http::ErrorResponse(if_match.error());
  auto body = ParseJsonObject(request);
  if (!body.ok()) co_return http::ErrorResponse(body.error());
  FieldReader fields(*body);
  domain::ListingPatch patch;
  ReadListingFields(fields, patch);
  RejectNonEditable(fields);
  if (!fields.ok()) co_return http::ErrorResponse(fields.error());

  auto listing = co_await listings.Update(*seller, *id, std::move(patch), *if_match);
  if (!listing.ok()) co_return http::ErrorResponse(listing.error());
  co_return ListingResponse(200, *listing);
}

Task<Response> SetActive(AuthService& auth, ListingsService& listings, Request& request,
                         bool active) {
  auto seller = co_await auth.Authenticate(request.Header("authorization"));
  if (!seller.ok()) co_return AuthErrorResponse(seller.error());
  auto id = PathListingId(request);
  if (!id) co_return http::ErrorResponse(NoSuchListing());
  auto listing = co_await listings.SetActive(*seller, *id, active);
  if (!listing.ok()) co_return http::ErrorResponse(listing.error());
  co_return ListingResponse(200, *listing);
}

Task<Response> DeleteListing(AuthService& auth, ListingsService& listings, Request& request) {
  auto seller = co_await auth.Authenticate(request.Header("authorization"));
  if (!seller.ok()) co_return AuthErrorResponse(seller.error());
  auto id = PathListingId(request);
  if (!id) co_return http::ErrorResponse(NoSuchListing());
  auto deleted = co_await listings.Delete(*seller, *id);
  if (!deleted.ok()) co_return http::ErrorResponse(deleted.error());
  co_return http::NoContent();
}

Task<Response> BrowseListings(ListingsService& listings, Request& request) {
  auto query = ParseBrowseQuery(request);
  if (!query.ok()) co_return http::ErrorResponse(query.error());
  auto page = co_await listings.Browse(std::move(query).value(), CursorParam(request));
  if (!page.ok()) co_return http::ErrorResponse(page.error());
  co_return http::Json(200, PageJson(*page));
}

Task<Response> SellerListings(ListingsService& listings, Request& request) {
  auto query = ParseBrowseQuery(request);
  if (!query.ok()) co_return http::ErrorResponse(query.error());
  auto page = co_await listings.Shop(std::string(request.PathParam("username")),
                                     std::move(query).value(), CursorParam(request));
  if (!page.ok()) co_return http::ErrorResponse(page.error());
  co_return http::Json(200, PageJson(*page));
}

// The statuses of the seller's own list: all unless `status` says active or inactive.
Result<domain::StatusFilter> StatusParam(const Request& request) {
  std::string status = request.QueryParam("status");
  if (status.empty()) return domain::StatusFilter::kAll;
  auto parsed = domain::ParseStatusFilter(status);
  if (!parsed) return MakeError(ErrorCode::kBadRequest, "status must be active, inactive or all.");
  return *parsed;
}

Task<Response> MyListings(AuthService& auth, ListingsService& listings, Request& request) {
  auto seller = co_await auth.Authenticate(request.Header("authorization"));
  if (!seller.ok()) co_return AuthErrorResponse(seller.error());
  auto status = StatusParam(request);
  if (!status.ok()) co_return http::ErrorResponse(status.error());
  auto query = ParseBrowseQuery(request);
  if (!query.ok()) co_return http::ErrorResponse(query.error());
  query->status = *status;
  auto page = co_await listings.Mine(*seller, std::move(query).value(), CursorParam(request));
  if (!page.ok()) co_return http::ErrorResponse(page.error());
  co_return http::Json(200, PageJson(*page, SummaryView::kSeller));
}

std::optional<ImageId> PathImageId(const Request& request) {
  return PathId<ImageId>(request, "imageId");
}

Task<Response> AddImage(AuthService& auth, ListingsService& listings, Request& request) {
  auto seller = co_await auth.Authenticate(request.Header("authorization"));
  if (!seller.ok()) co_return AuthErrorResponse(seller.error());
  auto id = PathListingId(request);
  if (!id) co_return http::ErrorResponse(NoSuchListing());
  auto bytes = ImageUploadBytes(request);
  if (!bytes.ok()) co_return http::ErrorResponse(bytes.error());
  auto listing = co_await listings.AddImage(*seller, *id, std::string(*bytes));
  if (!listing.ok()) co_return http::ErrorResponse(listing.error());
  co_return ListingResponse(201, *listing);
}

Task<Response> SetMainImage(AuthService& auth, ListingsService& listings, Request& request) {
  auto seller = co_await auth.Authenticate(request.Header("authorization"));
  if (!seller.ok()) co_return AuthErrorResponse(seller.error());
  auto id = PathListingId(request);
  auto image = PathImageId(request);
  if (!id || !image) co_return http::ErrorResponse(NoSuchListing());
  auto listing = co_await listings.SetMainImage(*seller, *id, *image);
  if (!listing.ok()) co_return http::ErrorResponse(listing.error());
  co_return ListingResponse(200, *listing);
}

Task<Response> DeleteImage(AuthService& auth, ListingsService& listings, Request& request) {
  auto seller = co_await auth.Authenticate(request.Header("authorization"));
  if (!seller.ok()) co_return AuthErrorResponse(seller.error());
  auto id = PathListingId(request);
  auto image = PathImageId(request);
  if (!id || !image) co_return http::ErrorResponse(NoSuchListing());
  auto listing = co_await listings.DeleteImage(*seller, *id, *image);
  if (!listing.ok()) co_return http::ErrorResponse(listing.error());
  co_return ListingResponse(200, *listing);
}

// {"image_ids": [3, 1, 2]}: the new order of all the listing's images.
Result<std::vector<ImageId>> ReadImageOrder(const Request& request) {
  auto body = ParseJsonObject(request);
  if (!body.ok()) return body.error();
  FieldReader fields(*body);
  fields.RejectOthers({"image_ids"});
  if (!fields.ok()) return fields.error();
  const json::value* ids = body->if_contains("image_ids");
  if (ids == nullptr) return ValidationError({{"image_ids", "is required"}});
  if (!ids->is_array() || ids->as_array().size() > domain::kMaxImagesPerListing)
    return ValidationError({{"image_ids", "must be an array of at most 10 image ids"}});
  std::vector<ImageId> order;
  for (const auto& id : ids->as_array()) {
    if (!id.is_int64() || id.as_int64() <= 0)
      return ValidationError({{"image_ids", "must hold positive integer ids"}});
    order.push_back(ImageId{id.as_int64()});
  }
  return order;
}

Task<Response> ReorderImages(AuthService& auth, ListingsService& listings, Request& request) {
  auto seller = co_await auth.Authenticate(request.Header("authorization"));
  if (!seller.ok()) co_return AuthErrorResponse(seller.error());
  auto id = PathListingId(request);
  if (!id) co_return http::ErrorResponse(NoSuchListing());
  auto order = ReadImageOrder(request);
  if (!order.ok()) co_return http::ErrorResponse(order.error());
  auto listing = co_await listings.ReorderImages(*seller, *id, std::move(order).value());
  if (!listing.ok()) co_return http::ErrorResponse(listing.error());
  co_return ListingResponse(200, *listing);
}

}  // namespace

bool IsImageUpload(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/v1/listings/";
  constexpr std::string_view kSuffix = "/images";
  return path.size() > kPrefix.size() + kSuffix.size() && path.starts_with(kPrefix) &&
         path.ends_with(kSuffix);
}

void AddListingRoutes(http::Router& router, AuthService& auth, ListingsService& listings) {
  using http::Method;
  router.Add(Method::kGet, "/api/v1/categories", ListCategories);
  router.Add(Method::kGet, "/api/v1/listings",
             [&listings](Request& r) { return BrowseListings(listings, r); });
  router.Add(Method::kPost, "/api/v1/listings",
             [&auth, &listings](Request& r) { return CreateListing(auth, listings, r); });
  router.Add(Method::kGet, "/api/v1/listings/{id}",
             [&auth, &listings](Request& r) { return GetListing(auth, listings, r); });
  router.Add(Method::kPatch, "/api/v1/listings/{id}",
             [&auth, &listings](Request& r) { return PatchListing(auth, listings, r); });
  router.Add(Method::kDelete, "/api/v1/listings/{id}",
             [&auth, &listings](Request& r) { return DeleteListing(auth, listings, r); });
  router.Add(Method::kPost, "/api/v1/listings/{id}/activate",
             [&auth, &listings](Request& r) { return SetActive(auth, listings, r, true); });
  router.Add(Method::kPost, "/api/v1/listings/{id}/deactivate",
             [&auth, &listings](Request& r) { return SetActive(auth, listings, r, false); });
  router.Add(Method::kPost, "/api/v1/listings/{id}/images",
             [&auth, &listings](Request& r) { return AddImage(auth, listings, r); });
  router.Add(Method::kPut, "/api/v1/listings/{id}/images/order",
             [&auth, &listings](Request& r) { return ReorderImages(auth, listings, r); });
  router.Add(Method::kPut, "/api/v1/listings/{id}/images/{imageId}/main",
             [&auth, &listings](Request& r) { return SetMainImage(auth, listings, r); });
  router.Add(Method::kDelete, "/api/v1/listings/{id}/images/{imageId}",
             [&auth, &listings](Request& r) { return DeleteImage(auth, listings, r); });
  router.Add(Method::kGet, "/api/v1/users/{username}/listings",
             [&listings](Request& r) { return SellerListings(listings, r); });
  router.Add(Method::kGet, "/api/v1/me/listings",
             [&auth, &listings](Request& r) { return MyListings(auth, listings, r); });
}

}  // namespace market::handlers
