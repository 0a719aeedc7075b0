#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/listings/browse.hpp"
#include "domain/listings/listing.hpp"

namespace market::services {

struct NewImage {
  std::string format;
  int width = 0;
  int height = 0;
  int bytes = 0;
  std::string original_key;
  std::string small_key;
  std::string large_key;
};

class ListingsRepository {
 public:
  virtual ~ListingsRepository() = default;

  // `draft` is validated; the listing starts active at version 1.
  virtual Task<domain::Listing> Insert(UserId seller, const domain::ListingDraft& draft) = 0;
  // With seller and images; a deleted listing is not found.
  virtual Task<std::optional<domain::Listing>> Find(ListingId id) = 0;
  // Applies the set fields and bumps the version. With `expected_version`, only if the stored
  // version still is that: kPreconditionFailed otherwise. kNotFound when deleted or absent.
  virtual Task<Result<domain::Listing>> Update(ListingId id, const domain::ListingPatch& patch,
                                               std::optional<int> expected_version) = 0;
  virtual Task<Result<domain::Listing>> SetStatus(ListingId id, domain::ListingStatus status) = 0;
  // One query, seller names and main images included: up to query.limit items, and the cursor
  // after the last one when more follow.
  virtual Task<domain::ListingPage> Browse(const domain::BrowseQuery& query) = 0;

  // Appends an image under the listing's row lock; the first image becomes main. kConflict when
  // the listing already has `max_images`.
  virtual Task<Result<domain::ListingImage>> AddImage(ListingId id, const NewImage& image,
                                                      int max_images) = 0;
  // kNotFound unless the image belongs to the listing.
  virtual Task<Result<void>> SetMainImage(ListingId id, ImageId image) = 0;
  // When the main image goes, the first remaining one becomes main.
  virtual Task<Result<void>> DeleteImage(ListingId id, ImageId image) = 0;
  // `order` must name every image of the listing exactly once: kValidationFailed otherwise.
  virtual Task<Result<void>> ReorderImages(ListingId id, const std::vector<ImageId>& order) = 0;
};

}  // namespace market::services
