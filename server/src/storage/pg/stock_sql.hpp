#pragma once

// The one definition of reserved stock, as SQL text to splice into statements: the quantity of
// listing `id` (an SQL expression) held by the lines of unexpired pending orders. available =
// listings.quantity minus this. A macro so that statements stay compile-time string constants.
//
// A line's status is pending_payment exactly while its order is pending (every transition out of
// pending moves the lines too), so the partial index order_items_pending_listing_idx finds the
// reserving lines without walking the listing's sales history; the order gives the deadline.
#define MARKET_RESERVED_SQL(id)                                                        \
  "(SELECT coalesce(sum(oi.quantity), 0) FROM order_items oi JOIN orders o ON o.id = " \
  "oi.order_id WHERE oi.listing_id = " id                                              \
  " AND oi.status = 'pending_payment' AND o.status = "                                 \
  "'pending_payment' AND o.expires_at > now())"
