-- Reserved stock is summed over the lines of pending orders. Through order_items_listing_idx that
-- walked every line the listing ever sold (2.4 ms at 3,300 lines, inside the hot listing's lock,
-- growing with its history); lines carry status pending_payment exactly while their order is
-- pending, so this index finds only the lines still reserving.
CREATE INDEX order_items_pending_listing_idx ON order_items (listing_id, order_id)
  WHERE status = 'pending_payment';
