-- The order lifecycle: payment, fulfilment per item, refunds, and a record of every transition.

ALTER TABLE orders
  ADD COLUMN payment_provider  text,
  ADD COLUMN payment_intent_id text,
  ADD COLUMN paid_at           timestamptz;
-- An intent pays for one order only.
CREATE UNIQUE INDEX orders_payment_intent_idx ON orders (payment_provider, payment_intent_id)
  WHERE payment_intent_id IS NOT NULL;
-- The expiry sweep walks unpaid orders by deadline.
CREATE INDEX orders_expiry_idx ON orders (expires_at) WHERE status = 'pending_payment';

UPDATE order_items SET status = 'pending_payment' WHERE status = 'pending';
ALTER TABLE order_items
  ALTER COLUMN status SET DEFAULT 'pending_payment',
  ADD COLUMN carrier       text,
  ADD COLUMN tracking_code text,
  ADD COLUMN shipped_at    timestamptz,
  ADD COLUMN delivered_at  timestamptz,
  ADD CONSTRAINT order_items_status_known CHECK (status IN
    ('pending_payment', 'awaiting_shipment', 'shipped', 'delivered', 'cancelled')),
  ADD CONSTRAINT order_items_shipped_tracked CHECK
    (status NOT IN ('shipped', 'delivered') OR (tracking_code IS NOT NULL AND shipped_at IS NOT NULL));

-- Webhook events already acted on: recorded in the same transaction as their effects, so a
-- duplicate, concurrent or replayed delivery changes nothing.
CREATE TABLE payment_events (
  provider    text NOT NULL,
  event_id    text NOT NULL,
  type        text NOT NULL,
  order_id    bigint REFERENCES orders (id),
  outcome     text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, event_id)
);

-- Money going back to the buyer. Written in the transaction that decides it (status pending),
-- then sent to the provider after commit with a stable idempotency key, retried until it succeeds.
CREATE TABLE refunds (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id           bigint NOT NULL REFERENCES orders (id),
  provider           text NOT NULL,
  payment_intent_id  text NOT NULL,
  amount_cents       bigint NOT NULL,
  currency           text NOT NULL,
  reason             text NOT NULL,
  status             text NOT NULL DEFAULT 'pending',
  provider_refund_id text,
  attempts           integer NOT NULL DEFAULT 0,
  next_attempt_at    timestamptz NOT NULL DEFAULT now(),
  last_error         text,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT refunds_amount_positive CHECK (amount_cents > 0),
  CONSTRAINT refunds_status_known CHECK (status IN ('pending', 'succeeded')),
  -- Orders are refunded in full, once.
  CONSTRAINT refunds_one_per_order UNIQUE (order_id)
);
CREATE INDEX refunds_pending_idx ON refunds (next_attempt_at) WHERE status = 'pending';

-- Every transition, with who made it and when.
CREATE TABLE order_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id   bigint NOT NULL REFERENCES orders (id),
  item_id    bigint REFERENCES order_items (id),
  type       text NOT NULL,
  actor      text NOT NULL,
  actor_id   bigint REFERENCES users (id),
  detail     text,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT order_events_actor_known CHECK (actor IN ('buyer', 'seller', 'system', 'provider'))
);
CREATE INDEX order_events_order_idx ON order_events (order_id, id);
