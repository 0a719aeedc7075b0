-- The built-in `local` payment gateway. It stands for an external provider (it behaves like
-- Stripe's PaymentIntents) that happens to run in the same process: it keeps its own tables and
-- knows the marketplace only through metadata, so nothing here references a marketplace table.

CREATE TABLE local_payment_intents (
  id              text PRIMARY KEY,  -- pi_local_<24 base62>
  client_secret   text NOT NULL,     -- <id>_secret_<24 base62>: the buyer's credential to confirm
  amount_cents    bigint NOT NULL,
  -- Kept with the intent so that a CHECK, not only the code, bounds the refunds.
  amount_refunded_cents bigint NOT NULL DEFAULT 0,
  currency        text NOT NULL,     -- ISO 4217, upper case
  status          text NOT NULL DEFAULT 'requires_payment_method',
  order_id        bigint,            -- metadata: the marketplace's order, deliberately no FK
  idempotency_key text,
  last_error_code text,              -- the last decline, e.g. card_declined
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT local_payment_intents_amount_positive CHECK (amount_cents > 0),
  CONSTRAINT local_payment_intents_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
  CONSTRAINT local_payment_intents_status_known CHECK (status IN
    ('requires_payment_method', 'processing', 'succeeded', 'canceled')),
  CONSTRAINT local_payment_intents_refunds_bounded CHECK
    (amount_refunded_cents >= 0 AND amount_refunded_cents <= amount_cents),
  CONSTRAINT local_payment_intents_idempotency_key_unique UNIQUE (idempotency_key)
);

CREATE TABLE local_payment_refunds (
  id              text PRIMARY KEY,  -- re_local_<24 base62>
  intent_id       text NOT NULL REFERENCES local_payment_intents (id),
  amount_cents    bigint NOT NULL,
  reason          text NOT NULL DEFAULT '',
  idempotency_key text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT local_payment_refunds_amount_positive CHECK (amount_cents > 0),
  CONSTRAINT local_payment_refunds_idempotency_key_unique UNIQUE (idempotency_key)
);
CREATE INDEX local_payment_refunds_intent_idx ON local_payment_refunds (intent_id);

-- Webhook events, delivered at least once with backoff until the receiver answers 2xx.
CREATE TABLE local_webhook_events (
  id              text PRIMARY KEY,  -- evt_local_<24 base62>
  type            text NOT NULL,     -- payment_intent.succeeded, charge.refunded, …
  intent_id       text NOT NULL REFERENCES local_payment_intents (id),
  payload         text NOT NULL,     -- the exact JSON body delivered (and signed)
  attempts        integer NOT NULL DEFAULT 0,
  -- Due when in the past; while a delivery is in flight it holds a lease here.
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  failed_at       timestamptz,       -- given up: undelivered for too long
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX local_webhook_events_due_idx ON local_webhook_events (next_attempt_at)
  WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX local_webhook_events_intent_idx ON local_webhook_events (intent_id);
