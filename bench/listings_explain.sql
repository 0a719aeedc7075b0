-- EXPLAIN (ANALYZE, BUFFERS) of the queries behind the pages bench/listings.sh drives, run by it
-- with psql variables listing_id (a listing for the detail page) and cursor_id (the id inside the
-- cursor of the deep page).
--
-- The statement texts are those that BrowseStatement() and kFind in
-- server/src/storage/pg/listings_repository.cpp build for these requests (kept in step by hand:
-- when that SQL changes, change it here too). They are prepared without parameter types and
-- executed, as the server does (the page size, one more than the page, is part of the text), so
-- that PostgreSQL plans them the same way; each is executed five times first, so that the plan
-- shown is the one a warmed-up connection uses. The server wraps each in an outer query that
-- sums the reserved stock of the page's rows only; that part costs microseconds and is left out.
\set ON_ERROR_STOP on
\pset pager off

-- Limits are page size + 1: the server fetches one row more to know whether a next page exists.

PREPARE browse_first AS
SELECT l.id, l.title, l.price_cents, l.currency, l.quantity - 0 AS available, l.category,
       l.condition, l.created_at, u.username::text AS seller_username,
       u.display_name AS seller_display_name, i.id AS image_id, i.position AS image_position,
       i.format AS image_format, i.width AS image_width, i.height AS image_height,
       i.original_key AS image_original_key, i.small_key AS image_small_key,
       i.large_key AS image_large_key, 0::real AS rank
FROM listings l JOIN users u ON u.id = l.seller_id
LEFT JOIN listing_images i ON i.listing_id = l.id AND i.is_main
WHERE l.status = 'active' AND u.deleted_at IS NULL
ORDER BY l.id DESC LIMIT 25;

PREPARE browse_filtered AS
SELECT l.id, l.title, l.price_cents, l.currency, l.quantity - 0 AS available, l.category,
       l.condition, l.created_at, u.username::text AS seller_username,
       u.display_name AS seller_display_name, i.id AS image_id, i.position AS image_position,
       i.format AS image_format, i.width AS image_width, i.height AS image_height,
       i.original_key AS image_original_key, i.small_key AS image_small_key,
       i.large_key AS image_large_key, 0::real AS rank
FROM listings l JOIN users u ON u.id = l.seller_id
LEFT JOIN listing_images i ON i.listing_id = l.id AND i.is_main
WHERE l.status = 'active' AND u.deleted_at IS NULL AND l.category = $1
  AND l.price_cents >= $2 AND l.price_cents <= $3
ORDER BY l.id DESC LIMIT 25;

PREPARE browse_search AS
SELECT l.id, l.title, l.price_cents, l.currency, l.quantity - 0 AS available, l.category,
       l.condition, l.created_at, u.username::text AS seller_username,
       u.display_name AS seller_display_name, i.id AS image_id, i.position AS image_position,
       i.format AS image_format, i.width AS image_width, i.height AS image_height,
       i.original_key AS image_original_key, i.small_key AS image_small_key,
       i.large_key AS image_large_key,
       (ts_rank(l.search, websearch_to_tsquery('english', $1)))::real AS rank
FROM listings l JOIN users u ON u.id = l.seller_id
LEFT JOIN listing_images i ON i.listing_id = l.id AND i.is_main
WHERE l.status = 'active' AND u.deleted_at IS NULL
  AND (l.search @@ websearch_to_tsquery('english', $1))
ORDER BY rank DESC, l.id DESC LIMIT 25;

-- The typo-tolerant fallback, run only when the exact search does not fill the first page:
-- every word of the query (here two) must be close to a word of the title.
PREPARE browse_search_typo AS
SELECT l.id, l.title, l.price_cents, l.currency, l.quantity - 0 AS available, l.category,
       l.condition, l.created_at, u.username::text AS seller_username,
       u.display_name AS seller_display_name, i.id AS image_id, i.position AS image_position,
       i.format AS image_format, i.width AS image_width, i.height AS image_height,
       i.original_key AS image_original_key, i.small_key AS image_small_key,
       i.large_key AS image_large_key,
       (ts_rank(l.search, websearch_to_tsquery('english', $1)) + word_similarity($1, l.title))::real
         AS rank
FROM listings l JOIN users u ON u.id = l.seller_id
LEFT JOIN listing_images i ON i.listing_id = l.id AND i.is_main
WHERE l.status = 'active' AND u.deleted_at IS NULL
  AND (l.search @@ websearch_to_tsquery('english', $1) OR ($2 <% l.title AND $3 <% l.title))
ORDER BY rank DESC, l.id DESC LIMIT 25;

PREPARE browse_deep AS
SELECT l.id, l.title, l.price_cents, l.currency, l.quantity - 0 AS available, l.category,
       l.condition, l.created_at, u.username::text AS seller_username,
       u.display_name AS seller_display_name, i.id AS image_id, i.position AS image_position,
       i.format AS image_format, i.width AS image_width, i.height AS image_height,
       i.original_key AS image_original_key, i.small_key AS image_small_key,
       i.large_key AS image_large_key, 0::real AS rank
FROM listings l JOIN users u ON u.id = l.seller_id
LEFT JOIN listing_images i ON i.listing_id = l.id AND i.is_main
WHERE l.status = 'active' AND u.deleted_at IS NULL AND l.id < $1
ORDER BY l.id DESC LIMIT 25;

PREPARE listing_find AS
SELECT l.id, l.seller_id, u.username::text AS seller_username,
       u.display_name AS seller_display_name, u.created_at AS seller_created_at, l.title,
       l.description, l.price_cents, l.currency, l.quantity, 0 AS reserved, l.category,
       l.condition, l.status, l.version, l.created_at, l.updated_at,
       (SELECT coalesce(json_agg(json_build_object('id', i.id, 'position', i.position,
                'is_main', i.is_main, 'format', i.format, 'width', i.width, 'height', i.height,
                'original_key', i.original_key, 'small_key', i.small_key,
                'large_key', i.large_key) ORDER BY i.position), '[]')
        FROM listing_images i WHERE i.listing_id = l.id)::text AS images
FROM listings l JOIN users u ON u.id = l.seller_id
WHERE l.id = $1 AND l.status <> 'deleted';

-- Warm-up: five executions each (output discarded).
\o /dev/null
EXECUTE browse_first; EXECUTE browse_first; EXECUTE browse_first;
EXECUTE browse_first; EXECUTE browse_first;
EXECUTE browse_filtered('books', 1000, 5000); EXECUTE browse_filtered('books', 1000, 5000);
EXECUTE browse_filtered('books', 1000, 5000); EXECUTE browse_filtered('books', 1000, 5000);
EXECUTE browse_filtered('books', 1000, 5000);
EXECUTE browse_search('vintage lamp'); EXECUTE browse_search('vintage lamp');
EXECUTE browse_search('vintage lamp'); EXECUTE browse_search('vintage lamp');
EXECUTE browse_search('vintage lamp');
EXECUTE browse_search_typo('vintaeg lmap', 'vintaeg', 'lmap');
EXECUTE browse_deep(:cursor_id); EXECUTE browse_deep(:cursor_id);
EXECUTE browse_deep(:cursor_id); EXECUTE browse_deep(:cursor_id);
EXECUTE browse_deep(:cursor_id);
EXECUTE listing_find(:listing_id); EXECUTE listing_find(:listing_id);
EXECUTE listing_find(:listing_id); EXECUTE listing_find(:listing_id);
EXECUTE listing_find(:listing_id);
\o

\echo '=== GET /api/v1/listings (first page, newest)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE browse_first;
\echo '=== GET /api/v1/listings?category=books&min_price=1000&max_price=5000'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE browse_filtered('books', 1000, 5000);
\echo '=== GET /api/v1/listings?q=vintage+lamp (relevance)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE browse_search('vintage lamp');
\echo '=== GET /api/v1/listings?q=vintaeg+lmap (typo: exact finds nothing, then this)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE browse_search_typo('vintaeg lmap', 'vintaeg', 'lmap');
\echo '=== GET /api/v1/listings?cursor=… (deep page, newest, id <' :cursor_id ')'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE browse_deep(:cursor_id);
\echo '=== GET /api/v1/listings/' :listing_id
EXPLAIN (ANALYZE, BUFFERS) EXECUTE listing_find(:listing_id);
