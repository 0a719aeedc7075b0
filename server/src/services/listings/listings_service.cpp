#include "services/listings/listings_service.hpp"

#include "common/offload.hpp"

namespace market::services {
namespace {

Error NotFound() { return MakeError(ErrorCode::kNotFound, "No such listing."); }

Error BadCursor() {
  return MakeError(ErrorCode::kBadRequest,
                   "The cursor is malformed or was not issued for this query.");
}

}  // namespace

ListingsService::ListingsService(ListingsRepository& listings, UsersRepository& users,
                                 ImageProcessor& images, MediaStore& media,
                                 boost::asio::thread_pool& media_pool, const auth::Signer& cursors,
                                 StockGate& gate, ListingsOptions options)
    : listings_(listings),
      users_(users),
      images_(images),
      media_(media),
      media_pool_(media_pool),
      gate_(gate),
      cursors_(cursors),
      options_(std::move(options)) {}

Task<Result<domain::Listing>> ListingsService::Owned(const Principal& seller, ListingId id) {
  auto listing = co_await listings_.Find(id);
  if (!listing) co_return NotFound();
  if (listing->seller.id != seller.user.id) {
    // An inactive listing is invisible to others: saying 403 would tell them it exists.
    if (listing->status != domain::ListingStatus::kActive) co_return NotFound();
    co_return MakeError(ErrorCode::kForbidden, "Only the seller can change this listing.");
  }
  co_return std::move(*listing);
}

Task<Result<domain::Listing>> ListingsService::Reloaded(ListingId id) {
  auto listing = co_await listings_.Find(id);
  if (!listing) co_return NotFound();
  co_return std::move(*listing);
}

Task<Result<domain::Listing>> ListingsService::Create(const Principal& seller,
                                                      domain::ListingDraft draft) {
  if (draft.currency.empty()) draft.currency = options_.currency;
  auto errors = domain::ValidateDraft(draft, options_.currency);
  if (!errors.empty()) co_return ValidationError(std::move(errors));
  co_return co_await listings_.Insert(seller.user.id, draft);
}

Task<Result<domain::Listing>> ListingsService::Get(ListingId id,
                                                   const std::optional<Principal>& viewer) {
  auto listing = co_await listings_.Find(id);
  if (!listing) co_return NotFound();
  bool is_seller = viewer && viewer->user.id == listing->seller.id;
  if (listing->status != domain::ListingStatus::kActive && !is_seller) co_return NotFound();
  co_return std::move(*listing);
}

Task<Result<domain::Listing>> ListingsService::Update(const Principal& seller, ListingId id,
                                                      domain::ListingPatch patch,
                                                      std::optional<int> if_match) {
  auto errors = domain::ValidatePatch(patch, options_.currency);
  if (!errors.empty()) co_return ValidationError(std::move(errors));
  auto current = co_await Owned(seller, id);
  if (!current.ok()) co_return current;
  if (if_match && *if_match != current->version)
    co_return MakeError(ErrorCode::kPreconditionFailed,
                        "The listing changed since you read it; reload and try again.");
  // Stock held by pending orders cannot be taken away from them.
  if (patch.quantity && *patch.quantity < current->reserved) {
    co_return Error{
        .code = ErrorCode::kConflict,
        .message = std::to_string(current->reserved) +
                   " are reserved by pending orders; quantity cannot go below that.",
        .fields = {{"quantity", "must be at least " + std::to_string(current->reserved) +
                                    " (reserved by pending orders)"}}};
  }
  if (patch.empty()) co_return current;
  auto updated = co_await listings_.Update(id, patch, if_match);
  // The stock gate's counter was computed from the old quantity: the next checkout re-seeds it.
  if (updated.ok() && patch.quantity) co_await gate_.Invalidate(id);
  co_return updated;
}

Task<Result<domain::Listing>> ListingsService::SetActive(const Principal& seller, ListingId id,
                                                         bool active) {
  auto current = co_await Owned(seller, id);
  if (!current.ok()) co_return current;
  auto status = active ? domain::ListingStatus::kActive : domain::ListingStatus::kInactive;
  if (current->status == status) co_return current;
  co_return co_await listings_.SetStatus(id, status);
}

Task<Result<void>> ListingsService::Delete(const Principal& seller, ListingId id) {
  auto current = co_await Owned(seller, id);
  if (!current.ok()) co_return std::move(current).error();
  auto deleted = co_await listings_.SetStatus(id, domain::ListingStatus::kDeleted);
  if (!deleted.ok()) co_return std::move(deleted).error();
  co_return Ok();
}

Task<Result<ListingPageResult>> ListingsService::Browse(domain::BrowseQuery query,
                                                        std::optional<std::string> cursor) {
  if (cursor) {
    auto text = cursors_.Open(*cursor);
    if (!text) co_return BadCursor();
    query.after = domain::ParseCursorText(*text);
    if (!query.after || query.after->sort != query.sort) co_return BadCursor();
    query.fuzzy = query.after->fuzzy;
  }
  auto errors = domain::ValidateBrowse(query);
  if (!errors.empty()) co_return ValidationError(std::move(errors));
  domain::ListingPage page = co_await listings_.Browse(query);
  // Exact matches are cheap to find; typo-tolerant matching costs a trigram index scan, so it
  // runs only when the exact search does not fill the first page. Its cursor remembers the mode.
  if (query.q && !query.after && !query.fuzzy &&
      page.items.size() < static_cast<std::size_t>(query.limit)) {
    query.fuzzy = true;
    page = co_await listings_.Browse(query);
  }
  ListingPageResult result{.items = std::move(page.items)};
  if (page.next) result.next_cursor = cursors_.Seal(domain::CursorText(*page.next));
  co_return result;
}

Task<Result<ListingPageResult>> ListingsService::Shop(std::string username,
                                                      domain::BrowseQuery query,
                                                      std::optional<std::string> cursor) {
  std::string normalized = domain::NormalizeUsername(username);
  auto seller = co_await users_.FindActiveByUsername(normalized);
  if (!seller) co_return MakeError(ErrorCode::kNotFound, "No such user.");
  query.seller = std::move(normalized);
  co_return co_await Browse(std::move(query), std::move(cursor));
}

Task<Result<ListingPageResult>> ListingsService::Mine(const Principal& seller,
                                                      domain::BrowseQuery query,
                                                      std::optional<std::string> cursor) {
  query.seller.reset();
  query.seller_id = seller.user.id;
  co_return co_await Browse(std::move(query), std::move(cursor));
}

Task<Result<domain::Listing>> ListingsService::AddImage(const Principal& seller, ListingId id,
                                                        std::string bytes) {
  auto current = co_await Owned(seller, id);
  if (!current.ok()) co_return current;
  // Checked before the expensive decode; checked again under the row lock when stored.
  if (current->images.size() >= domain::kMaxImagesPerListing)
    co_return MakeError(ErrorCode::kConflict, "A listing has at most 10 images.");

  auto process = [this, bytes = std::move(bytes)] { return images_.Process(bytes); };
  Result<ProcessedImage> processed = co_await Offload(media_pool_, std::move(process));
  if (!processed.ok()) co_return std::move(processed).error();
  auto store = [this, &processed] {
    NewImage image{.format = std::string(ImageFormatName(processed->format)),
                   .width = processed->width,
                   .height = processed->height,
                   .bytes = static_cast<int>(processed->original.size())};
    std::string extension = processed->format == ImageFormat::kJpeg ? "jpg" : image.format;
    image.original_key = media_.Put(processed->original, extension);
    image.small_key = media_.Put(processed->small, "webp");
    image.large_key = media_.Put(processed->large, "webp");
    return image;
  };
  NewImage image = co_await Offload(media_pool_, std::move(store));

  auto added = co_await listings_.AddImage(id, image, domain::kMaxImagesPerListing);
  if (!added.ok()) co_return std::move(added).error();
  co_return co_await Reloaded(id);
}

Task<Result<domain::Listing>> ListingsService::SetMainImage(const Principal& seller, ListingId id,
                                                            ImageId image) {
  auto current = co_await Owned(seller, id);
  if (!current.ok()) co_return current;
  auto done = co_await listings_.SetMainImage(id, image);
  if (!done.ok()) co_return std::move(done).error();
  co_return co_await Reloaded(id);
}

Task<Result<domain::Listing>> ListingsService::DeleteImage(const Principal& seller, ListingId id,
                                                           ImageId image) {
  auto current = co_await Owned(seller, id);
  if (!current.ok()) co_return current;
  auto done = co_await listings_.DeleteImage(id, image);
  if (!done.ok()) co_return std::move(done).error();
  co_return co_await Reloaded(id);
}

Task<Result<domain::Listing>> ListingsService::ReorderImages(const Principal& seller, ListingId id,
                                                             std::vector<ImageId> order) {
  auto current = co_await Owned(seller, id);
  if (!current.ok()) co_return current;
  auto done = co_await listings_.ReorderImages(id, order);
  if (!done.ok()) co_return std::move(done).error();
  co_return co_await Reloaded(id);
}

}  // namespace market::services
