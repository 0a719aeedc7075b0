#pragma once

#include "services/listings/listings_repository.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

class PgListingsRepository final : public services::ListingsRepository {
 public:
  explicit PgListingsRepository(Pool& pool) : pool_(pool) {}

  Task<domain::Listing> Insert(UserId seller, const domain::ListingDraft& draft) override;
  Task<std::optional<domain::Listing>> Find(ListingId id) override;
  Task<Result<domain::Listing>> Update(ListingId id, const domain::ListingPatch& patch,
                                       std::optional<int> expected_version) override;
  Task<Result<domain::Listing>> SetStatus(ListingId id, domain::ListingStatus status) override;
  Task<domain::ListingPage> Browse(const domain::BrowseQuery& query) override;

  Task<Result<domain::ListingImage>> AddImage(ListingId id, const services::NewImage& image,
                                              int max_images) override;
  Task<Result<void>> SetMainImage(ListingId id, ImageId image) override;
  Task<Result<void>> DeleteImage(ListingId id, ImageId image) override;
  Task<Result<void>> ReorderImages(ListingId id, const std::vector<ImageId>& order) override;

 private:
  Pool& pool_;
};

// The main image of a list row, from its image_* columns (image_id, image_position,
// image_format, image_width, image_height, image_original_key, image_small_key,
// image_large_key), or nothing when the listing has no image.
std::optional<domain::ListingImage> MainImageFromRow(const QueryResult& result, int row);

}  // namespace market::pg
