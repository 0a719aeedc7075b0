#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "auth/signer.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/listings/browse.hpp"
#include "domain/listings/listing.hpp"
#include "services/accounts/auth_service.hpp"
#include "services/accounts/users_repository.hpp"
#include "services/listings/listings_repository.hpp"
#include "services/listings/media.hpp"
#include "services/orders/stock_gate.hpp"

namespace market::services {

struct ListingsOptions {
  std::string currency = "USD";
};

struct ListingPageResult {
  std::vector<domain::ListingSummary> items;
  std::optional<std::string> next_cursor;  // opaque, signed
};

// The catalogue: sellers create and manage listings and their images; anyone browses.
class ListingsService {
 public:
  ListingsService(ListingsRepository& listings, UsersRepository& users, ImageProcessor& images,
                  MediaStore& media, boost::asio::thread_pool& media_pool,
                  const auth::Signer& cursors, StockGate& gate, ListingsOptions options);

  const ListingsOptions& options() const { return options_; }

  Task<Result<domain::Listing>> Create(const Principal& seller, domain::ListingDraft draft);
  // Active listings for anyone; inactive ones for their seller only (404 for others).
  Task<Result<domain::Listing>> Get(ListingId id, const std::optional<Principal>& viewer);
  // `if_match`: the version the caller last saw (from the ETag), if it sent one.
  Task<Result<domain::Listing>> Update(const Principal& seller, ListingId id,
                                       domain::ListingPatch patch, std::optional<int> if_match);
  Task<Result<domain::Listing>> SetActive(const Principal& seller, ListingId id, bool active);
  Task<Result<void>> Delete(const Principal& seller, ListingId id);

  // `cursor` is the opaque next_cursor of a previous page: 400 when malformed or tampered with.
  Task<Result<ListingPageResult>> Browse(domain::BrowseQuery query,
                                         std::optional<std::string> cursor);
  // A seller's shop: their active listings; 404 when there is no such (active) user.
  Task<Result<ListingPageResult>> Shop(std::string username, domain::BrowseQuery query,
                                       std::optional<std::string> cursor);
  // The seller's own listings, of the statuses `query.status` names (never deleted ones); any
  // seller named in the query is replaced by `seller`.
  Task<Result<ListingPageResult>> Mine(const Principal& seller, domain::BrowseQuery query,
                                       std::optional<std::string> cursor);

  Task<Result<domain::Listing>> AddImage(const Principal& seller, ListingId id, std::string bytes);
  Task<Result<domain::Listing>> SetMainImage(const Principal& seller, ListingId id, ImageId image);
  Task<Result<domain::Listing>> DeleteImage(const Principal& seller, ListingId id, ImageId image);
  Task<Result<domain::Listing>> ReorderImages(const Principal& seller, ListingId id,
                                              std::vector<ImageId> order);

 private:
  // The listing if it exists and `seller` owns it: 404 / 403 otherwise.
  Task<Result<domain::Listing>> Owned(const Principal& seller, ListingId id);
  Task<Result<domain::Listing>> Reloaded(ListingId id);

  ListingsRepository& listings_;
  UsersRepository& users_;
  ImageProcessor& images_;
  MediaStore& media_;
  boost::asio::thread_pool& media_pool_;
  StockGate& gate_;
  const auth::Signer& cursors_;
  ListingsOptions options_;
};

}  // namespace market::services
