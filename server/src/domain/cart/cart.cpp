#include "domain/cart/cart.hpp"

#include <algorithm>

namespace market::domain {

std::string_view CartProblemName(CartProblem problem) {
  switch (problem) {
    case CartProblem::kNotForSale:
      return "not_for_sale";
    case CartProblem::kPriceChanged:
      return "price_changed";
    case CartProblem::kExceedsAvailable:
      return "exceeds_available";
  }
  return "not_for_sale";
}

std::vector<CartProblem> CartLine::problems() const {
  std::vector<CartProblem> found;
  if (!for_sale) found.push_back(CartProblem::kNotForSale);
  if (unit_price_cents != price_when_added_cents) found.push_back(CartProblem::kPriceChanged);
  if (quantity > available) found.push_back(CartProblem::kExceedsAvailable);
  return found;
}

bool CartLine::purchasable() const { return for_sale && quantity <= available; }

std::int64_t Cart::total_cents() const {
  std::int64_t total = 0;
  for (const auto& line : lines) total += line.line_total_cents();
  return total;
}

bool Cart::purchasable() const {
  return !lines.empty() &&
         std::all_of(lines.begin(), lines.end(), [](const CartLine& l) { return l.purchasable(); });
}

}  // namespace market::domain
