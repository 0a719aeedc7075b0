#pragma once

#include "services/cart/carts_repository.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

class PgCartsRepository final : public services::CartsRepository {
 public:
  explicit PgCartsRepository(Pool& pool) : pool_(pool) {}

  Task<domain::Cart> Load(UserId user) override;
  Task<Result<void>> Put(UserId user, ListingId listing, int quantity,
                         std::int64_t unit_price_cents, int max_lines) override;
  Task<void> Remove(UserId user, ListingId listing) override;
  Task<void> Clear(UserId user) override;

 private:
  Pool& pool_;
};

}  // namespace market::pg
