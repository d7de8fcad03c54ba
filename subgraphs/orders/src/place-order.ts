import { createHash } from 'node:crypto';
import { badUserInput } from '@commerce/common';
import { bucketOf, decodeId, type Principal, type ShardedDb } from '@commerce/kit';
import { ORDER_COLUMNS, type OrderRow } from './loaders';

export interface PlaceOrderInput {
  idempotencyKey: string;
  items: { productId: string; quantity: number }[];
}

const MAX_ITEMS = 50;
const MAX_QUANTITY = 1000;

interface Line {
  productId: bigint;
  quantity: number;
}

function validate(input: PlaceOrderInput): Line[] {
  const key = input.idempotencyKey;
  if (key.length < 1 || key.length > 128)
    throw badUserInput('input.idempotencyKey must be 1-128 characters', { argumentName: 'input.idempotencyKey' });
  if (input.items.length < 1 || input.items.length > MAX_ITEMS)
    throw badUserInput(`input.items must have 1-${MAX_ITEMS} items, got ${input.items.length}`, {
      argumentName: 'input.items',
    });
  return input.items.map((item, i) => {
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY) {
      throw badUserInput(`input.items[${i}].quantity must be 1-${MAX_QUANTITY}, got ${item.quantity}`, {
        argumentName: `input.items[${i}].quantity`,
      });
    }
    return { productId: decodeId('Product', item.productId, `input.items[${i}].productId`), quantity: item.quantity };
  });
}

/** Current prices of the products, read from their own shards (one statement per shard). */
async function prices(db: ShardedDb, principal: Principal, lines: Line[]): Promise<Map<string, number>> {
  const ids = [...new Set(lines.map((l) => l.productId.toString()))];
  const found = new Map<string, number>();
  await Promise.all(
    [...db.groupByShard(ids, (id) => id)].map(async ([shard, entries]) => {
      const { rows } = await db.read<{ id: string; price_cents: number }>(
        shard,
        principal.consistencyKey,
        'SELECT id, price_cents FROM products WHERE id = ANY($1::bigint[])',
        [entries.map((e) => e.key)],
      );
      for (const row of rows) found.set(row.id, row.price_cents);
    }),
  );
  lines.forEach((line, i) => {
    if (!found.has(line.productId.toString()))
      throw badUserInput(`input.items[${i}].productId prd_${line.productId} does not exist`, {
        argumentName: `input.items[${i}].productId`,
      });
  });
  return found;
}

/**
 * Places an order on the user's shard. The idempotency key is unique per
 * user: a repeat with the same items returns the first order; a repeat with
 * different items is refused, so a retried request can never order twice.
 */
export async function placeOrder(
  db: ShardedDb,
  principal: Principal,
  userKey: bigint,
  input: PlaceOrderInput,
): Promise<OrderRow> {
  const lines = validate(input);
  const requestHash = createHash('sha256')
    .update(JSON.stringify(lines.map((l) => [l.productId.toString(), l.quantity])))
    .digest('hex');
  const bucket = bucketOf(userKey);
  const priceOf = await prices(db, principal, lines);
  const total = lines.reduce((sum, l) => sum + priceOf.get(l.productId.toString())! * l.quantity, 0);
  if (total > 2 ** 31 - 1) throw badUserInput('order total is too large', { argumentName: 'input.items' });

  const { order, hash } = await db.transaction(db.shardOfBucket(bucket), principal.consistencyKey, async (tx) => {
    const inserted = await tx.query<OrderRow>(
      `INSERT INTO orders (id, user_id, status, total_cents, idempotency_key, request_hash)
       VALUES (next_id($1), $2, 'PLACED', $3, $4, $5)
       ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING ${ORDER_COLUMNS}`,
      [bucket, userKey.toString(), total, input.idempotencyKey, requestHash],
    );
    const created = inserted.rows[0];
    if (created) {
      await tx.query(
        `INSERT INTO order_items (order_id, position, product_id, quantity, unit_price_cents)
         SELECT $1, n, p, q, c FROM unnest($2::bigint[], $3::int[], $4::int[]) WITH ORDINALITY AS x(p, q, c, n)`,
        [
          created.id,
          lines.map((l) => l.productId.toString()),
          lines.map((l) => l.quantity),
          lines.map((l) => priceOf.get(l.productId.toString())),
        ],
      );
      return { order: created, hash: requestHash };
    }
    const existing = await tx.query<OrderRow & { request_hash: string }>(
      `SELECT ${ORDER_COLUMNS}, request_hash FROM orders WHERE user_id = $1 AND idempotency_key = $2`,
      [userKey.toString(), input.idempotencyKey],
    );
    const { request_hash, ...order } = existing.rows[0]!;
    return { order, hash: request_hash };
  });
  if (hash !== requestHash) {
    throw badUserInput(
      `idempotencyKey ${JSON.stringify(input.idempotencyKey)} was already used for a different order`,
      { argumentName: 'input.idempotencyKey' },
    );
  }
  return order;
}
