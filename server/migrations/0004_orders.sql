-- Orders: what was bought, at the price it was bought, from whom, shipped where.
CREATE TABLE orders (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  buyer_id        bigint NOT NULL REFERENCES users (id),
  status          text NOT NULL DEFAULT 'pending_payment',
  currency        text NOT NULL,
  total_cents     bigint NOT NULL,
  -- Snapshot of the address at checkout; editing the address book later never changes it.
  shipping_address jsonb NOT NULL,
  -- Unpaid past this, the order expires and its reservation ends.
  expires_at      timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT orders_status_known CHECK (status IN
    ('pending_payment', 'paid', 'cancelled', 'expired', 'completed')),
  CONSTRAINT orders_total_positive CHECK (total_cents > 0)
);
CREATE INDEX orders_buyer_idx ON orders (buyer_id, id DESC);
-- Reservations are the lines of unexpired pending orders: found through this index.
CREATE INDEX orders_pending_idx ON orders (id) WHERE status = 'pending_payment';

CREATE TABLE order_items (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id        bigint NOT NULL REFERENCES orders (id),
  listing_id      bigint NOT NULL REFERENCES listings (id),
  seller_id       bigint NOT NULL REFERENCES users (id),
  -- The snapshot: what the buyer saw and paid for.
  seller_username text NOT NULL,
  seller_display_name text NOT NULL,
  title           text NOT NULL,
  unit_price_cents bigint NOT NULL,
  currency        text NOT NULL,
  quantity        integer NOT NULL,
  image_key       text,
  status          text NOT NULL DEFAULT 'pending',
  CONSTRAINT order_items_quantity_positive CHECK (quantity > 0),
  CONSTRAINT order_items_price_positive CHECK (unit_price_cents > 0)
);
CREATE INDEX order_items_order_idx ON order_items (order_id);
CREATE INDEX order_items_listing_idx ON order_items (listing_id);
CREATE INDEX order_items_seller_idx ON order_items (seller_id, order_id DESC);

-- Idempotency-Key records: a retried POST returns the first result instead of acting twice.
CREATE TABLE idempotency_keys (
  user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key          text NOT NULL,
  request_hash bytea NOT NULL,
  order_id     bigint REFERENCES orders (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
