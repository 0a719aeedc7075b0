#pragma once

#include <optional>
#include <vector>

#include "common/result.hpp"
#include "common/task.hpp"
#include "domain/addresses/address.hpp"

namespace market::services {

class AddressesRepository {
 public:
  virtual ~AddressesRepository() = default;

  // The user's addresses, the default first, then newest first.
  virtual Task<std::vector<domain::SavedAddress>> List(UserId user) = 0;
  // Only the user's own address; another user's is nothing.
  virtual Task<std::optional<domain::SavedAddress>> Find(UserId user, domain::AddressId id) = 0;
  // Adds an address, serialised per user: kConflict when the user already has `max` of them.
  // The first address, or one added with is_default, becomes the default.
  virtual Task<Result<domain::SavedAddress>> Add(UserId user, const domain::SavedAddress& address,
                                                 int max) = 0;
  // Replaces the fields and the check of the user's address `address.id`; is_default true makes it
  // the default (false leaves the default where it is). Nothing when it is not the user's.
  virtual Task<std::optional<domain::SavedAddress>> Update(UserId user,
                                                           const domain::SavedAddress& address,
                                                           bool make_default) = 0;
  // False when it is not the user's. Deleting the default makes the newest remaining one the
  // default.
  virtual Task<bool> Remove(UserId user, domain::AddressId id) = 0;
};

}  // namespace market::services
