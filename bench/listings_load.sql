-- Bench data for bench/listings.sh: 300 sellers and 100,000 listings, in one transaction.
-- bench/listings.sh runs it only when the seller bench-seller-1 does not exist yet, so loading
-- twice is a no-op; the guard below makes running it by hand twice fail instead of duplicating.
--
-- Deterministic (setseed): every load produces the same titles, prices and categories, so runs
-- on different machines query the same data. Sellers cannot log in: their password hash is a
-- well-formed Argon2id string of no known password.
\set ON_ERROR_STOP on

BEGIN;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM users WHERE username = 'bench-seller-1') THEN
    RAISE EXCEPTION 'bench data is already loaded (bench-seller-1 exists)';
  END IF;
END $$;

SELECT setseed(0.42);

INSERT INTO users (username, email, display_name, password_hash, created_at, updated_at)
SELECT 'bench-seller-' || g,
       'bench-seller-' || g || '@example.com',
       'Bench Seller ' || g,
       '$argon2id$v=19$m=65536,t=2,p=1$YmVuY2gtc2VsbGVyLXNhbHQ$' ||
         rtrim(encode(sha256(('bench-seller-' || g)::bytea), 'base64'), '='),
       now() - interval '400 days' + g * interval '1 hour',
       now() - interval '400 days' + g * interval '1 hour'
FROM generate_series(1, 300) AS g;

-- Titles: "<Adjective> <material> <noun><extra>"; descriptions: three sentences, the middle one
-- naming the noun again. 24 × 20 × 40 × 8 distinct titles; "vintage" and "lamp" are both in the
-- lists, so `q=vintage lamp` has matches in titles and descriptions.
WITH words AS (
  SELECT
    ARRAY['vintage', 'antique', 'modern', 'classic', 'retro', 'handmade', 'rustic', 'compact',
          'portable', 'wireless', 'heavy-duty', 'lightweight', 'elegant', 'sturdy', 'rare',
          'limited', 'refurbished', 'professional', 'foldable', 'waterproof', 'mini', 'large',
          'original', 'designer'] AS adjective,
    ARRAY['brass', 'oak', 'walnut', 'steel', 'leather', 'ceramic', 'glass', 'cotton', 'wool',
          'bamboo', 'aluminium', 'copper', 'marble', 'linen', 'silver', 'carbon', 'rattan',
          'porcelain', 'velvet', 'pine'] AS material,
    ARRAY['lamp', 'chair', 'table', 'camera', 'guitar', 'bicycle', 'phone', 'laptop', 'novel',
          'jacket', 'boots', 'watch', 'ring', 'kettle', 'drill', 'tent', 'backpack', 'speaker',
          'headphones', 'mirror', 'vase', 'clock', 'desk', 'sofa', 'rug', 'teapot', 'puzzle',
          'skateboard', 'helmet', 'printer', 'monitor', 'keyboard', 'blender', 'stroller',
          'easel', 'violin', 'painting', 'sculpture', 'saddle', 'aquarium'] AS noun,
    ARRAY['', ' with box', ' (set of 2)', ' for parts', ' XL', ', barely used', ' - boxed',
          ' + accessories'] AS extra,
    ARRAY['electronics', 'computers', 'phones', 'cameras', 'video-games', 'home-garden',
          'furniture', 'kitchen', 'tools', 'fashion', 'shoes', 'jewelry', 'health-beauty', 'baby',
          'toys', 'sports', 'outdoors', 'bicycles', 'automotive', 'books', 'music', 'movies',
          'art', 'collectibles', 'pets', 'office', 'other'] AS category,
    ARRAY['new', 'like_new', 'good', 'fair'] AS condition,
    ARRAY['Barely used and kept in a dry place.', 'Works perfectly, tested yesterday.',
          'Some wear on the edges, see the photos.', 'Comes from a smoke-free home.',
          'Bought last year, selling because I moved.', 'A gift I never unpacked.',
          'Minor scratches that do not affect use.', 'Serviced recently.'] AS opening,
    ARRAY['A great %s for everyday use.', 'This %s has been looked after well.',
          'Hard to find a %s like this one.', 'The %s comes with its original manual.',
          'Perfect %s for a collector.', 'Solid %s, built to last.'] AS middle,
    ARRAY['Ships within two days.', 'Local pickup possible.', 'Happy to answer questions.',
          'Price is firm.', 'Bundle discounts available.', 'No returns.'] AS closing
),
sellers AS (
  SELECT array_agg(id ORDER BY id) AS ids FROM users WHERE username LIKE 'bench-seller-%'
),
picked AS (
  SELECT g,
         1 + floor(random() * 24)::int AS a,
         1 + floor(random() * 20)::int AS m,
         1 + floor(random() * 40)::int AS n,
         1 + floor(random() * 8)::int AS x,
         1 + floor(random() * 27)::int AS c,
         1 + floor(random() * 4)::int AS k,
         1 + floor(random() * 8)::int AS o,
         1 + floor(random() * 6)::int AS d,
         1 + floor(random() * 6)::int AS e,
         -- Log-uniform from 1.00 to 5,000.00: many cheap things, a few dear ones.
         greatest(100, least(500000, round(exp(ln(100) + random() * (ln(500000) - ln(100))))))::bigint
           AS price_cents,
         CASE WHEN random() < 0.1 THEN 0 ELSE 1 + floor(random() * 9)::int END AS quantity,
         CASE WHEN random() < 0.03 THEN 'inactive' ELSE 'active' END AS status,
         random() AS s
  FROM generate_series(1, 100000) AS g
)
INSERT INTO listings (seller_id, title, description, price_cents, currency, quantity, category,
                      condition, status, created_at, updated_at, status_changed_at)
SELECT sellers.ids[1 + floor(p.s * cardinality(sellers.ids))::int],
       initcap(w.adjective[p.a]) || ' ' || w.material[p.m] || ' ' || w.noun[p.n] || w.extra[p.x],
       w.opening[p.o] || ' ' || format(w.middle[p.d], w.noun[p.n]) || ' ' || w.closing[p.e],
       p.price_cents,
       'USD',
       p.quantity,
       w.category[p.c],
       w.condition[p.k],
       p.status,
       -- One a minute, oldest first: ids and created_at agree, as they do in production.
       now() - (100001 - p.g) * interval '1 minute',
       now() - (100001 - p.g) * interval '1 minute',
       now() - (100001 - p.g) * interval '1 minute'
FROM picked AS p, words AS w, sellers
ORDER BY p.g;

COMMIT;

ANALYZE users;
ANALYZE listings;
ANALYZE listing_images;
