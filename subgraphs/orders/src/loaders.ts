import DataLoader from 'dataloader';
import { batchByShard, rowsById, rowsByParent, type Principal, type ShardedDb } from '@commerce/kit';

export interface OrderRow {
  id: string;
  user_id: string;
  status: 'PLACED' | 'CANCELLED';
  total_cents: number;
  currency: string;
  created_at: Date;
}

export interface ItemRow {
  order_id: string;
  position: number;
  product_id: string;
  quantity: number;
  unit_price_cents: number;
}

/** One page of one user's orders. */
export interface UserOrdersKey {
  userId: string;
  first: number;
  /** Continue after this order ID (exclusive; orders are newest first). */
  after?: bigint;
  /** Fetch the orders' items in the same statement (the query asks for them). */
  withItems: boolean;
}

export interface OrdersLoaders {
  orderById: DataLoader<string, OrderRow | null>;
  itemsByOrder: DataLoader<string, ItemRow[]>;
  /** Up to `first + 1` orders per key (the extra one tells that a next page exists). */
  ordersByUser: DataLoader<UserOrdersKey, OrderRow[], string>;
}

export const ORDER_COLUMNS = 'id, user_id, status, total_cents, currency, created_at';

// One statement per shard for a whole batch of users: each user's newest
// orders (after their own cursor) ranked with a window function.
// One statement per shard for a whole batch of users: each user's newest
// orders (after their own cursor) ranked with a window function, with their
// items aggregated alongside when the query selects them.
function ordersByUsersSql(withItems: boolean): string {
  const items = withItems
    ? `, (SELECT coalesce(json_agg(json_build_object('order_id', i.order_id::text, 'position', i.position, 'product_id', i.product_id::text,
            'quantity', i.quantity, 'unit_price_cents', i.unit_price_cents) ORDER BY i.position), '[]')
         FROM order_items i WHERE i.order_id = ranked.id) AS items`
    : '';
  return `
SELECT ${ORDER_COLUMNS}, key${items} FROM (
  SELECT o.id, o.user_id, o.status, o.total_cents, o.currency, o.created_at, k.key,
         row_number() OVER (PARTITION BY k.key ORDER BY o.id DESC) AS rank
  FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS k(user_id, before_id, key)
  JOIN orders o ON o.user_id = k.user_id AND (k.before_id IS NULL OR o.id < k.before_id)
) ranked
WHERE rank <= $3
ORDER BY key, id DESC`;
}
const ORDERS_BY_USERS = { plain: ordersByUsersSql(false), withItems: ordersByUsersSql(true) };

function ordersByUser(
  db: ShardedDb,
  consistencyKey: string | undefined,
  itemsByOrder: DataLoader<string, ItemRow[]>,
): DataLoader<UserOrdersKey, OrderRow[], string> {
  return new DataLoader<UserOrdersKey, OrderRow[], string>(
    (keys) =>
      batchByShard(
        db,
        keys,
        (k) => k.userId,
        async (shard, group) => {
          const pages: OrderRow[][] = group.map(() => []);
          // Keys of one batch normally share their shape; group by it so each group is one statement.
          const shapes = [...new Set(group.map((k) => `${k.first}:${k.withItems}`))];
          await Promise.all(
            shapes.map(async (shape) => {
              const positions = group.flatMap((k, i) => (`${k.first}:${k.withItems}` === shape ? [i] : []));
              const { first, withItems } = group[positions[0]!]!;
              const { rows } = await db.read<OrderRow & { key: string; items?: ItemRow[] }>(
                shard,
                consistencyKey,
                withItems ? ORDERS_BY_USERS.withItems : ORDERS_BY_USERS.plain,
                [
                  positions.map((i) => group[i]!.userId),
                  positions.map((i) => group[i]!.after?.toString() ?? null),
                  first + 1,
                ],
              );
              for (const { key, items, ...row } of rows) {
                if (items) itemsByOrder.prime(row.id, items);
                pages[positions[Number(key) - 1]!]!.push(row);
              }
            }),
          );
          return pages;
        },
      ),
    { cacheKeyFn: (k) => `${k.userId}:${k.first}:${k.after ?? ''}:${k.withItems}` },
  );
}

export function createOrdersLoaders(db: ShardedDb, principal: Principal): OrdersLoaders {
  const key = principal.consistencyKey;
  const itemsByOrder = rowsByParent<ItemRow>(
    db,
    key,
    'SELECT order_id::text, position, product_id::text, quantity, unit_price_cents FROM order_items WHERE order_id = ANY($1::bigint[]) ORDER BY order_id, position',
    (row) => row.order_id,
  );
  return {
    orderById: rowsById<OrderRow>(db, key, `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ANY($1::bigint[])`),
    itemsByOrder,
    ordersByUser: ordersByUser(db, key, itemsByOrder),
  };
}
