#include "domain/cart/cart.hpp"

#include <gtest/gtest.h>

namespace market::domain {
namespace {

CartLine Line(std::int64_t price, std::int64_t price_then, int quantity, int available,
              bool for_sale = true) {
  return CartLine{.listing_id = ListingId{1},
                  .unit_price_cents = price,
                  .price_when_added_cents = price_then,
                  .currency = "USD",
                  .quantity = quantity,
                  .available = available,
                  .for_sale = for_sale};
}

TEST(CartLine, HasNoProblemsWhenNothingChanged) {
  auto line = Line(500, 500, 2, 2);
  EXPECT_TRUE(line.problems().empty());
  EXPECT_TRUE(line.purchasable());
  EXPECT_EQ(line.line_total_cents(), 1000);
}

TEST(CartLine, APriceChangeIsShownButDoesNotBlock) {
  auto line = Line(450, 500, 1, 5);
  EXPECT_EQ(line.problems(), std::vector<CartProblem>{CartProblem::kPriceChanged});
  EXPECT_TRUE(line.purchasable());
}

TEST(CartLine, NotForSaleOrTooFewInStockBlocks) {
  EXPECT_EQ(Line(500, 500, 3, 2).problems(),
            std::vector<CartProblem>{CartProblem::kExceedsAvailable});
  EXPECT_FALSE(Line(500, 500, 3, 2).purchasable());
  EXPECT_EQ(Line(500, 500, 1, 1, false).problems(),
            std::vector<CartProblem>{CartProblem::kNotForSale});
  EXPECT_FALSE(Line(500, 500, 1, 1, false).purchasable());
}

TEST(Cart, TotalsAndPurchasability) {
  Cart empty;
  EXPECT_EQ(empty.total_cents(), 0);
  EXPECT_FALSE(empty.purchasable()) << "an empty cart cannot be checked out";
  Cart cart{.lines = {Line(500, 500, 2, 5), Line(1999, 1999, 1, 1)}};
  EXPECT_EQ(cart.total_cents(), 2999);
  EXPECT_TRUE(cart.purchasable());
  cart.lines.push_back(Line(100, 100, 2, 1));
  EXPECT_FALSE(cart.purchasable());
}

}  // namespace
}  // namespace market::domain
