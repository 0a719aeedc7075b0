-- Shopping carts: one per user, a line per listing.
CREATE TABLE cart_items (
  user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  listing_id  bigint NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
  quantity    integer NOT NULL,
  -- The price the buyer saw when setting the line, to flag a change before checkout.
  price_when_added_cents bigint NOT NULL,
  added_at    timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, listing_id),
  CONSTRAINT cart_items_quantity_range CHECK (quantity BETWEEN 1 AND 99)
);
CREATE INDEX cart_items_listing_idx ON cart_items (listing_id);
