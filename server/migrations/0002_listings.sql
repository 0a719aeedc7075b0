-- Listings and their images.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE listings (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  seller_id    bigint NOT NULL REFERENCES users (id),
  title        text NOT NULL,
  description  text NOT NULL DEFAULT '',
  -- Money: integer minor units of `currency`, never floating point.
  price_cents  bigint NOT NULL,
  currency     text NOT NULL,
  -- On hand. Reservations are the lines of unexpired pending orders; available = quantity - those.
  quantity     integer NOT NULL,
  category     text NOT NULL,
  condition    text NOT NULL,
  status       text NOT NULL DEFAULT 'active',
  -- Bumped by every change; the ETag that If-Match is checked against.
  version      integer NOT NULL DEFAULT 1,
  search       tsvector GENERATED ALWAYS AS (
                 setweight(to_tsvector('english', title), 'A') ||
                 setweight(to_tsvector('english', description), 'B')) STORED,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT listings_title_length CHECK (char_length(title) BETWEEN 3 AND 120),
  CONSTRAINT listings_description_length CHECK (char_length(description) <= 5000),
  CONSTRAINT listings_price_range CHECK (price_cents BETWEEN 1 AND 99999999),
  CONSTRAINT listings_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
  CONSTRAINT listings_quantity_range CHECK (quantity BETWEEN 0 AND 1000000),
  CONSTRAINT listings_condition_known CHECK (condition IN ('new', 'like_new', 'good', 'fair')),
  CONSTRAINT listings_status_known CHECK (status IN ('active', 'inactive', 'deleted'))
);

-- Browsing reads only active listings; each sort has its own keyset index.
CREATE INDEX listings_newest_idx ON listings (id DESC) WHERE status = 'active';
CREATE INDEX listings_price_idx ON listings (price_cents, id) WHERE status = 'active';
CREATE INDEX listings_category_idx ON listings (category, id DESC) WHERE status = 'active';
CREATE INDEX listings_seller_idx ON listings (seller_id, id DESC);
CREATE INDEX listings_search_idx ON listings USING gin (search) WHERE status = 'active';
CREATE INDEX listings_title_trgm_idx ON listings USING gin (title gin_trgm_ops) WHERE status = 'active';

CREATE TABLE listing_images (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  listing_id  bigint NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
  position    integer NOT NULL,
  is_main     boolean NOT NULL DEFAULT false,
  -- Content-addressed keys under MEDIA_DIR (sha256 of the stored bytes).
  original_key text NOT NULL,
  small_key   text NOT NULL,
  large_key   text NOT NULL,
  format      text NOT NULL,
  width       integer NOT NULL,
  height      integer NOT NULL,
  bytes       integer NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT listing_images_format_known CHECK (format IN ('jpeg', 'png', 'webp'))
);
CREATE INDEX listing_images_listing_idx ON listing_images (listing_id, position);
-- At most one main image per listing; the service keeps exactly one whenever there is any.
CREATE UNIQUE INDEX listing_images_one_main ON listing_images (listing_id) WHERE is_main;
