-- A seller may refund the lines they cannot ship. A refund is now of the whole payment (item_id
-- NULL: at most one per order, for what no line refund has returned yet) or of one line (at most
-- one per line, of that line's total).
ALTER TABLE refunds ADD COLUMN item_id bigint REFERENCES order_items (id);
ALTER TABLE refunds DROP CONSTRAINT refunds_one_per_order;
CREATE INDEX refunds_order_idx ON refunds (order_id);
CREATE UNIQUE INDEX refunds_whole_order_idx ON refunds (order_id) WHERE item_id IS NULL;
CREATE UNIQUE INDEX refunds_one_per_item_idx ON refunds (item_id) WHERE item_id IS NOT NULL;
