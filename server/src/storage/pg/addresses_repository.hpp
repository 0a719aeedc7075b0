#pragma once

#include "services/addresses/addresses_repository.hpp"
#include "storage/pg/pool.hpp"

namespace market::pg {

class PgAddressesRepository final : public services::AddressesRepository {
 public:
  explicit PgAddressesRepository(Pool& pool) : pool_(pool) {}

  Task<std::vector<domain::SavedAddress>> List(UserId user) override;
  Task<std::optional<domain::SavedAddress>> Find(UserId user, domain::AddressId id) override;
  Task<Result<domain::SavedAddress>> Add(UserId user, const domain::SavedAddress& address,
                                         int max) override;
  Task<std::optional<domain::SavedAddress>> Update(UserId user, const domain::SavedAddress& address,
                                                   bool make_default) override;
  Task<bool> Remove(UserId user, domain::AddressId id) override;

 private:
  Pool& pool_;
};

}  // namespace market::pg
