#include "services/cart/cart_service.hpp"

namespace market::services {

CartService::CartService(CartsRepository& carts, ListingsRepository& listings)
    : carts_(carts), listings_(listings) {}

Task<domain::Cart> CartService::Get(const Principal& buyer) {
  co_return co_await carts_.Load(buyer.user.id);
}

Task<Result<domain::Cart>> CartService::SetItem(const Principal& buyer, ListingId id,
                                                std::int64_t quantity) {
  if (quantity < domain::kMinCartQuantity || quantity > domain::kMaxCartQuantity)
    co_return ValidationError({{"quantity", "must be 1 to 99"}});
  auto listing = co_await listings_.Find(id);
  if (!listing) co_return MakeError(ErrorCode::kNotFound, "No such listing.");
  if (listing->seller.id == buyer.user.id)
    co_return MakeError(ErrorCode::kForbidden, "You cannot buy your own listing.");
  if (listing->status != domain::ListingStatus::kActive)
    co_return MakeError(ErrorCode::kConflict, "This listing is not for sale right now.");
  if (quantity > listing->available()) {
    std::string available = std::to_string(listing->available());
    co_return Error{.code = ErrorCode::kConflict,
                    .message = "Only " + available + " available.",
                    .fields = {{"quantity", "must be at most " + available + " (available now)"}}};
  }
  auto put = co_await carts_.Put(buyer.user.id, id, static_cast<int>(quantity),
                                 listing->price_cents, domain::kMaxCartLines);
  if (!put.ok()) co_return std::move(put).error();
  co_return co_await carts_.Load(buyer.user.id);
}

Task<domain::Cart> CartService::RemoveItem(const Principal& buyer, ListingId listing) {
  co_await carts_.Remove(buyer.user.id, listing);
  co_return co_await carts_.Load(buyer.user.id);
}

Task<void> CartService::Clear(const Principal& buyer) { co_await carts_.Clear(buyer.user.id); }

}  // namespace market::services
