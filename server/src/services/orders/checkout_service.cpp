#include "services/orders/checkout_service.hpp"

#include <algorithm>
#include <exception>

namespace market::services {
namespace {

constexpr std::size_t kMaxKeyLength = 255;

}  // namespace

CheckoutService::CheckoutService(Database& db, OrdersRepository& orders, StockGate& gate,
                                 const Clock& clock, CheckoutOptions options,
                                 AddressesService* addresses)
    : db_(db),
      orders_(orders),
      gate_(gate),
      clock_(clock),
      options_(options),
      addresses_(addresses) {}

Task<Result<PlacedOrder>> CheckoutService::PlaceOrder(const Principal& buyer, std::string key,
                                                      std::string request_hash,
                                                      domain::ShippingAddress address,
                                                      std::string ip) {
  const std::string prefix = "shipping_address.";
  Result<domain::ShippingAddress> resolved = std::move(address);
  if (addresses_ != nullptr) {
    resolved = co_await addresses_->Normalized(buyer, ip, std::move(*resolved), prefix);
  } else if (auto errors = domain::ValidateAddress(*resolved); !errors.empty()) {
    resolved = WithFieldPrefix(ValidationError(std::move(errors)), prefix);
  }
  if (!resolved.ok()) resolved = co_await EarlierAddress(buyer, key, std::move(resolved));
  co_return co_await Place(buyer, std::move(key), std::move(request_hash), std::move(resolved));
}

Task<Result<PlacedOrder>> CheckoutService::PlaceOrder(const Principal& buyer, std::string key,
                                                      std::string request_hash,
                                                      domain::AddressId address) {
  Result<domain::ShippingAddress> resolved =
      ValidationError({{"address_id", "is not one of your addresses"}});
  if (addresses_ != nullptr) resolved = co_await addresses_->Saved(buyer, address, "address_id");
  if (!resolved.ok()) resolved = co_await EarlierAddress(buyer, key, std::move(resolved));
  co_return co_await Place(buyer, std::move(key), std::move(request_hash), std::move(resolved));
}

Task<Result<domain::ShippingAddress>> CheckoutService::EarlierAddress(
    const Principal& buyer, const std::string& key, Result<domain::ShippingAddress> refused) {
  std::optional<domain::OrderId> earlier = co_await orders_.KeyOrder(buyer.user.id, key);
  std::optional<domain::Order> order;
  if (earlier) order = co_await orders_.Find(*earlier);
  if (order) co_return std::move(order->shipping_address);
  co_return refused;
}

Task<Result<PlacedOrder>> CheckoutService::Place(const Principal& buyer, std::string key,
                                                 std::string request_hash,
                                                 Result<domain::ShippingAddress> resolved) {
  if (key.empty() || key.size() > kMaxKeyLength ||
      !std::all_of(key.begin(), key.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; }))
    co_return MakeError(ErrorCode::kBadRequest,
                        "An Idempotency-Key header of 1 to 255 visible characters is required.");
  if (!resolved.ok()) co_return std::move(resolved).error();
  const domain::ShippingAddress& address = *resolved;

  // The gate first, outside any transaction (Redis is a network call).
  std::vector<StockWant> wants = co_await orders_.CartWants(buyer.user.id);
  std::string hold = std::to_string(buyer.user.id.value) + ":" + key;
  bool taken = false;
  if (!wants.empty()) {
    std::optional<Error> refused = co_await Admit(buyer.user.id, hold, wants, taken);
    // A retry of a checkout that succeeded gets its order back even when the stock is gone now.
    if (refused) {
      std::optional<domain::OrderId> earlier = co_await orders_.KeyOrder(buyer.user.id, key);
      if (!earlier) co_return std::move(*refused);
    }
  }

  std::optional<Result<PlacedOrder>> placed;
  std::exception_ptr failure;
  try {
    placed = co_await PlaceInPostgres(buyer, key, request_hash, address, taken ? &wants : nullptr);
  } catch (...) {
    failure = std::current_exception();
  }
  // What the gate took for an order that was not made goes back.
  if (taken && (failure || !placed->ok() || (*placed)->replayed)) co_await gate_.GiveBack(hold);
  if (failure) std::rethrow_exception(failure);
  co_return std::move(*placed);
}

Task<std::optional<Error>> CheckoutService::Admit(UserId buyer, const std::string& hold,
                                                  const std::vector<StockWant>& wants,
                                                  bool& taken) {
  // A hold only has to outlive the retries of one checkout: a retry after it is gone takes stock
  // again and gives it back when PostgreSQL answers with the first order (or, refused, finds the
  // key's order), so a short life keeps Redis small under load (one small hash per checkout).
  const std::chrono::seconds hold_ttl = std::chrono::minutes(5);
  GateResult result = co_await gate_.Take(hold, wants, hold_ttl);
  if (result.outcome == GateOutcome::kMissing) {
    // Unknown counters are rebuilt from PostgreSQL, then asked again.
    std::vector<StockLevel> levels = co_await orders_.StockLevels(result.missing);
    co_await gate_.Seed(levels);
    result = co_await gate_.Take(hold, wants, hold_ttl);
  }
  taken = result.outcome == GateOutcome::kTaken;
  if (result.outcome != GateOutcome::kRefused) co_return std::nullopt;
  // The gate knows only which counters are short; the buyer should hear about every line that
  // stops the checkout (not for sale, their own listing), as PostgreSQL sees them now.
  std::vector<domain::CheckoutLine> lines = co_await orders_.CartLines(buyer);
  std::optional<Error> refusal = domain::CheckCheckout(lines, buyer);
  if (!refusal || refusal->code != ErrorCode::kConflict) {
    refusal = Error{.code = ErrorCode::kConflict,
                    .message = "Some items in the cart cannot be bought as they are."};
  }
  for (const auto& level : result.short_of) {
    std::string field = "cart." + std::to_string(level.listing.value);
    bool named = std::any_of(refusal->fields.begin(), refusal->fields.end(),
                             [&field](const FieldError& e) { return e.field == field; });
    if (!named)
      refusal->fields.push_back(
          {field, "only " + std::to_string(std::max(0, level.available)) + " available"});
  }
  co_return refusal;
}

Task<Result<PlacedOrder>> CheckoutService::PlaceInPostgres(const Principal& buyer,
                                                           const std::string& key,
                                                           const std::string& request_hash,
                                                           const domain::ShippingAddress& address,
                                                           const std::vector<StockWant>* admitted) {
  auto tx = co_await db_.Begin();
  CheckoutStart start = co_await orders_.StartCheckout(*tx, buyer.user.id, key, request_hash);
  const ClaimOutcome& claim = start.claim;
  if (claim.claim == KeyClaim::kMismatch)
    co_return Error{.code = ErrorCode::kValidationFailed,
                    .message = "This Idempotency-Key was already used for a different request.",
                    .fields = {{"Idempotency-Key", "was used for a different request"}}};
  if (claim.claim == KeyClaim::kReplay) {
    tx.reset();
    std::optional<domain::Order> order;
    if (claim.order) order = co_await orders_.Find(*claim.order);
    if (!order) co_return MakeError(ErrorCode::kConflict, "The first request did not finish.");
    co_return PlacedOrder{.order = std::move(*order), .replayed = true};
  }
  if (start.pending_orders >= options_.max_pending_orders)
    co_return MakeError(ErrorCode::kConflict,
                        "Too many unpaid orders: pay or cancel one before placing another.");

  // Everything that needs no lock first; the listings are locked last, for as short a time as
  // possible (they are the hot rows of a flash sale): lock, check, commit.
  std::vector<domain::CheckoutLine>& lines = start.lines;
  if (admitted != nullptr) {
    // The gate took what the cart held a moment ago; an order must take exactly that.
    bool same = lines.size() == admitted->size();
    for (std::size_t i = 0; same && i < lines.size(); ++i) {
      same = lines[i].listing_id == (*admitted)[i].listing &&
             lines[i].quantity == (*admitted)[i].quantity;
    }
    if (!same)
      co_return MakeError(ErrorCode::kConflict,
                          "The cart changed during checkout: look it over and try again.");
  }
  if (auto refused = domain::CheckCheckout(lines, buyer.user.id)) co_return std::move(*refused);
  std::int64_t total = domain::OrderTotal(lines);
  PlacedRows placed = co_await orders_.InsertAndLockStock(
      *tx, buyer.user.id, key, lines, address, total, clock_.Now() + options_.payment_ttl);
  if (auto refused = domain::CheckLocked(lines, placed.locked, buyer.user.id))
    co_return std::move(*refused);  // rolls back the order written above
  co_await tx->Commit();
  co_return PlacedOrder{.order = std::move(placed.order)};
}

}  // namespace market::services
