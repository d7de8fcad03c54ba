import pg from 'pg';
import { EPOCH_MS, bucketForKey, makeId } from './ids';
import type { ShardMap } from './shard-map';

/** Sizes of the deterministic seed. */
export const SEED_SIZES = { users: 5000, products: 500, minOrders: 50_000 } as const;

const CATEGORIES = ['books', 'electronics', 'home', 'garden', 'toys', 'sports', 'grocery', 'fashion'];
const ADJECTIVES = [
  'Classic',
  'Compact',
  'Deluxe',
  'Eco',
  'Ergonomic',
  'Handmade',
  'Modern',
  'Portable',
  'Rugged',
  'Smart',
  'Vintage',
  'Wireless',
];
const NOUNS = [
  'Backpack',
  'Blender',
  'Chair',
  'Desk Lamp',
  'Headphones',
  'Jacket',
  'Kettle',
  'Notebook',
  'Planter',
  'Puzzle',
  'Sneakers',
  'Speaker',
  'Tent',
  'Watch',
];
const FIRST = [
  'Ada',
  'Alan',
  'Barbara',
  'Edsger',
  'Grace',
  'Ken',
  'Linus',
  'Margaret',
  'Niklaus',
  'Radia',
  'Dennis',
  'Frances',
  'John',
  'Leslie',
  'Tim',
  'Sophie',
];
const LAST = [
  'Lovelace',
  'Turing',
  'Liskov',
  'Dijkstra',
  'Hopper',
  'Thompson',
  'Torvalds',
  'Hamilton',
  'Wirth',
  'Perlman',
  'Ritchie',
  'Allen',
  'McCarthy',
  'Lamport',
  'Berners-Lee',
  'Wilson',
];

/** mulberry32: a tiny deterministic PRNG, so every seed run produces the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Rows {
  users: { id: bigint[]; email: string[]; name: string[]; created: string[] };
  products: { id: bigint[]; sku: string[]; name: string[]; description: string[]; category: string[]; price: number[] };
  orders: { id: bigint[]; user: bigint[]; status: string[]; total: number[]; created: string[] };
  items: { order: bigint[]; position: number[]; product: bigint[]; quantity: number[]; price: number[] };
}

function emptyRows(): Rows {
  return {
    users: { id: [], email: [], name: [], created: [] },
    products: { id: [], sku: [], name: [], description: [], category: [], price: [] },
    orders: { id: [], user: [], status: [], total: [], created: [] },
    items: { order: [], position: [], product: [], quantity: [], price: [] },
  };
}

/** Generates the seed rows, grouped by the shard each row belongs to. */
export function generateSeed(map: ShardMap): Rows[] {
  const random = prng(20240101);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const perShard = map.shards.map(emptyRows);
  const shardOf = (bucket: number) => perShard[map.bucketToShard[bucket]!]!;
  const iso = (ms: bigint) => new Date(Number(ms)).toISOString();

  const products: { id: bigint; price: number }[] = [];
  for (let i = 1; i <= SEED_SIZES.products; i++) {
    const sku = `SKU-${String(i).padStart(5, '0')}`;
    const bucket = bucketForKey(sku);
    const id = makeId(EPOCH_MS + 1000n + BigInt(i), bucket, BigInt(i));
    const price = 199 + Math.floor(random() * 200) * 50;
    const rows = shardOf(bucket).products;
    rows.id.push(id);
    rows.sku.push(sku);
    rows.name.push(`${pick(ADJECTIVES)} ${pick(NOUNS)} ${i}`);
    rows.description.push(`Seeded product ${i}.`);
    rows.category.push(CATEGORIES[i % CATEGORIES.length]!);
    rows.price.push(price);
    products.push({ id, price });
  }

  let orderCount = 0;
  for (let i = 1; i <= SEED_SIZES.users; i++) {
    const email = `user${i}@example.com`;
    const bucket = bucketForKey(email);
    const created = EPOCH_MS + 1_000_000n + BigInt(i) * 1000n;
    const userId = makeId(created, bucket, BigInt(i));
    const shard = shardOf(bucket);
    shard.users.id.push(userId);
    shard.users.email.push(email);
    shard.users.name.push(`${pick(FIRST)} ${pick(LAST)}`);
    shard.users.created.push(iso(created));
    const orders = 6 + Math.floor(random() * 10);
    for (let k = 0; k < orders; k++) {
      orderCount++;
      const at = EPOCH_MS + 10_000_000n + BigInt(orderCount) * 1000n;
      const orderId = makeId(at, bucket, BigInt(orderCount));
      const lines = 1 + Math.floor(random() * 4);
      let total = 0;
      for (let p = 0; p < lines; p++) {
        const product = pick(products);
        const quantity = 1 + Math.floor(random() * 3);
        total += product.price * quantity;
        shard.items.order.push(orderId);
        shard.items.position.push(p + 1);
        shard.items.product.push(product.id);
        shard.items.quantity.push(quantity);
        shard.items.price.push(product.price);
      }
      shard.orders.id.push(orderId);
      shard.orders.user.push(userId);
      shard.orders.status.push(random() < 0.1 ? 'CANCELLED' : 'PLACED');
      shard.orders.total.push(total);
      shard.orders.created.push(iso(at));
    }
  }
  if (orderCount < SEED_SIZES.minOrders)
    throw new Error(`seed generated ${orderCount} orders, fewer than ${SEED_SIZES.minOrders}`);
  return perShard;
}

const BATCH = 5000;

async function insertColumns(client: pg.Client, sql: string, columns: unknown[][]): Promise<void> {
  const length = columns[0]!.length;
  for (let start = 0; start < length; start += BATCH) {
    await client.query(
      sql,
      columns.map((c) => c.slice(start, start + BATCH).map((v) => (typeof v === 'bigint' ? v.toString() : v))),
    );
  }
}

/** A client whose connection failing fails the statement in flight, never the process (no unhandled 'error' event). */
function seedClient(url: string): pg.Client {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  return client;
}

/** Seeds one shard's primary with its rows (assumes migrated, empty tables). */
async function seedShard(url: string, rows: Rows): Promise<void> {
  const client = seedClient(url);
  await client.connect();
  try {
    await client.query('BEGIN');
    const { users: u, products: p, orders: o, items: i } = rows;
    await insertColumns(
      client,
      'INSERT INTO users (id, email, name, created_at) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[])',
      [u.id, u.email, u.name, u.created],
    );
    await insertColumns(
      client,
      'INSERT INTO products (id, sku, name, description, category, price_cents) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[])',
      [p.id, p.sku, p.name, p.description, p.category, p.price],
    );
    await insertColumns(
      client,
      'INSERT INTO orders (id, user_id, status, total_cents, created_at, updated_at) SELECT id, u, s, t, c, c FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::timestamptz[]) AS x(id, u, s, t, c)',
      [o.id, o.user, o.status, o.total, o.created],
    );
    await insertColumns(
      client,
      'INSERT INTO order_items (order_id, position, product_id, quantity, unit_price_cents) SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::int[], $5::int[])',
      [i.order, i.position, i.product, i.quantity, i.price],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

/** True when no shard has any user yet (a fresh database that needs the seed). */
export async function isEmpty(map: ShardMap): Promise<boolean> {
  const counts = await Promise.all(
    map.shards.map(async (s) => {
      const client = seedClient(s.primary);
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM (SELECT 1 FROM users LIMIT 1) x');
        return Number(rows[0]!.n);
      } finally {
        await client.end();
      }
    }),
  );
  return counts.every((n) => n === 0);
}

/** Writes the deterministic seed to every shard's primary. Returns the row counts. */
export async function seedShards(
  map: ShardMap,
): Promise<{ users: number; products: number; orders: number; items: number }> {
  const perShard = generateSeed(map);
  await Promise.all(map.shards.map((s) => seedShard(s.primary, perShard[s.index]!)));
  const sum = (f: (r: Rows) => number) => perShard.reduce((n, r) => n + f(r), 0);
  return {
    users: sum((r) => r.users.id.length),
    products: sum((r) => r.products.id.length),
    orders: sum((r) => r.orders.id.length),
    items: sum((r) => r.items.order.length),
  };
}
