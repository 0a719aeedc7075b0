#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace market {

// An int64 database id that cannot be mixed up with an id of another table.
template <class Tag>
struct StrongId {
  std::int64_t value = 0;

  auto operator<=>(const StrongId&) const = default;
};

using UserId = StrongId<struct UserTag>;
using SessionFamilyId = StrongId<struct SessionFamilyTag>;
using ListingId = StrongId<struct ListingTag>;
using ImageId = StrongId<struct ImageTag>;

}  // namespace market

template <class Tag>
struct std::hash<market::StrongId<Tag>> {
  std::size_t operator()(const market::StrongId<Tag>& id) const noexcept {
    return std::hash<std::int64_t>{}(id.value);
  }
};
