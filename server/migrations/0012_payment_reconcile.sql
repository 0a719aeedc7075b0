-- Provider intents the marketplace keeps checking (the reconcile_payments job): an unpaid order's,
-- in case its payment webhook never comes, and a closed order's until the intent is known never to
-- take money (canceled at the provider) or its payment is being refunded.
ALTER TABLE orders
  ADD COLUMN intent_settled_at timestamptz,
  ADD COLUMN intent_checked_at timestamptz;

-- Orders closed or paid before this migration need no check.
UPDATE orders SET intent_settled_at = updated_at
  WHERE payment_intent_id IS NOT NULL AND status <> 'pending_payment';

CREATE INDEX orders_intents_to_check_idx ON orders (id)
  WHERE payment_intent_id IS NOT NULL AND intent_settled_at IS NULL AND paid_at IS NULL;
