-- Applied to every shard. Every shard holds the same tables; a row lives on
-- the shard that owns the bucket carried in its ID.

-- Instagram-style IDs: ms since 2024-01-01 (41 bits) | bucket (10) | sequence (12).
-- The sequence is per shard; a bucket lives on one shard, so IDs are unique.
CREATE SEQUENCE IF NOT EXISTS id_sequence;
CREATE OR REPLACE FUNCTION next_id(bucket integer) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
  SELECT ((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - 1704067200000) << 22)
       | (bucket::bigint << 12)
       | (nextval('id_sequence') % 4096)
$$;

CREATE TABLE IF NOT EXISTS users (
  id          bigint PRIMARY KEY,
  email       text NOT NULL,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- The user's bucket is a hash of the email, so per-shard uniqueness is global uniqueness.
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (lower(email));

CREATE TABLE IF NOT EXISTS products (
  id           bigint PRIMARY KEY,
  sku          text NOT NULL,
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  category     text NOT NULL,
  price_cents  integer NOT NULL CHECK (price_cents >= 0),
  currency     char(3) NOT NULL DEFAULT 'USD',
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS products_sku ON products (sku);
CREATE INDEX IF NOT EXISTS products_category_id ON products (category, id);

-- Orders live on their user's shard (their ID carries the user's bucket).
CREATE TABLE IF NOT EXISTS orders (
  id               bigint PRIMARY KEY,
  user_id          bigint NOT NULL,
  status           text NOT NULL CHECK (status IN ('PLACED', 'CANCELLED')),
  total_cents      integer NOT NULL CHECK (total_cents >= 0),
  currency         char(3) NOT NULL DEFAULT 'USD',
  idempotency_key  text,
  request_hash     text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS orders_user_newest ON orders (user_id, id DESC);
CREATE UNIQUE INDEX IF NOT EXISTS orders_idempotency ON orders (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS order_items (
  order_id          bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  position          smallint NOT NULL,
  product_id        bigint NOT NULL,
  quantity          integer NOT NULL CHECK (quantity > 0),
  unit_price_cents  integer NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, position)
);
