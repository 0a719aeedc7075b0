#pragma once

// The one definition of reserved stock, as SQL text to splice into statements: the quantity of
// listing `id` (an SQL expression) held by the lines of unexpired pending orders. available =
// listings.quantity minus this. A macro so that statements stay compile-time string constants.
#define MARKET_RESERVED_SQL(id)                                                        \
  "(SELECT coalesce(sum(oi.quantity), 0) FROM order_items oi JOIN orders o ON o.id = " \
  "oi.order_id WHERE oi.listing_id = " id                                              \
  " AND o.status = 'pending_payment' AND o.expires_at > now())"
