-- Address books: a user's shipping addresses, each stored with the check it passed (the
-- geocoder's normalised form, where it is and how exactly). Orders copy the normalised address
-- into orders.shipping_address, so nothing here is referenced by an order.
CREATE TABLE addresses (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- 1 to 20, unique per user: the limit of 20 addresses holds in the database itself, whatever
  -- the code that inserts does (a 21st insert finds no free slot).
  slot           smallint NOT NULL,
  is_default     boolean NOT NULL DEFAULT false,
  recipient_name text NOT NULL,
  line1          text NOT NULL,
  line2          text NOT NULL DEFAULT '',
  city           text NOT NULL,
  region         text NOT NULL DEFAULT '',
  postal_code    text NOT NULL DEFAULT '',
  country        text NOT NULL,
  phone          text NOT NULL DEFAULT '',
  latitude       numeric(7, 5),
  longitude      numeric(8, 5),
  precision      text NOT NULL,
  provider       text NOT NULL,
  place_id       text NOT NULL DEFAULT '',
  validated_at   timestamptz NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT addresses_slot_range CHECK (slot BETWEEN 1 AND 20),
  CONSTRAINT addresses_slot_unique UNIQUE (user_id, slot),
  CONSTRAINT addresses_country_code CHECK (country ~ '^[A-Z]{2}$'),
  CONSTRAINT addresses_lengths CHECK (
    char_length(recipient_name) BETWEEN 1 AND 100 AND char_length(line1) BETWEEN 1 AND 200
    AND char_length(line2) <= 200 AND char_length(city) BETWEEN 1 AND 100
    AND char_length(region) <= 100 AND char_length(postal_code) <= 20
    AND char_length(phone) <= 20 AND char_length(place_id) <= 300),
  CONSTRAINT addresses_precision CHECK (precision IN ('none', 'city', 'postal_code', 'street')),
  CONSTRAINT addresses_located CHECK (
    (precision = 'none') = (latitude IS NULL) AND (latitude IS NULL) = (longitude IS NULL)),
  CONSTRAINT addresses_latitude_range CHECK (latitude BETWEEN -90 AND 90),
  CONSTRAINT addresses_longitude_range CHECK (longitude BETWEEN -180 AND 180)
);
-- At most one default per user.
CREATE UNIQUE INDEX addresses_one_default ON addresses (user_id) WHERE is_default;
