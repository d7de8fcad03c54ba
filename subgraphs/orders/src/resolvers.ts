import { notFound } from '@commerce/common';
import type { GraphQLResolveInfo } from 'graphql';
import {
  decodeId,
  encodeId,
  forbidden,
  mayReadPrivate,
  money,
  pageArgs,
  requireUser,
  selects,
  toConnection,
  type SubgraphContext,
} from '@commerce/kit';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { ORDER_COLUMNS, type ItemRow, type OrderRow, type OrdersLoaders } from './loaders';
import { placeOrder, type PlaceOrderInput } from './place-order';

type Context = SubgraphContext<OrdersLoaders>;

export const ORDERS_PAGE_SIZE = 10;

const toOrder = (row: OrderRow) => ({ ...row, id: encodeId('Order', row.id) });
type OrderValue = ReturnType<typeof toOrder>;

/** An order the caller may read (their own, or any with the admin scope); null otherwise, like a missing one. */
function readable(ctx: Context, row: OrderRow | null): OrderRow | null {
  return row && mayReadPrivate(ctx.principal, BigInt(row.user_id)) ? row : null;
}

export const resolvers: GraphQLResolverMap<Context> = {
  Query: {
    async order(_: unknown, args: { id: string }, ctx: Context) {
      // Someone else's order is reported exactly like a missing one (no probing for order IDs).
      const row = readable(ctx, await ctx.loaders.orderById.load(decodeId('Order', args.id).toString()));
      if (!row) throw notFound(`No order with id ${JSON.stringify(args.id)}`, { argumentName: 'id' });
      return toOrder(row);
    },
  },
  Mutation: {
    async placeOrder(_: unknown, args: { input: PlaceOrderInput }, ctx: Context) {
      const { userId, userKey } = requireUser(ctx.principal);
      const order = toOrder(await placeOrder(ctx.db, ctx.principal, userKey, args.input));
      // The user's order lists changed.
      ctx.cacheTags.changed('User', userId);
      return order;
    },
    async cancelOrder(_: unknown, args: { id: string }, ctx: Context) {
      const { userId, userKey } = requireUser(ctx.principal);
      const id = decodeId('Order', args.id);
      const row = await ctx.db.transaction(ctx.db.shardOf(id), ctx.principal.consistencyKey, async (tx) => {
        const { rows } = await tx.query<OrderRow>(
          `UPDATE orders SET status = 'CANCELLED', updated_at = CASE WHEN status = 'CANCELLED' THEN updated_at ELSE now() END
           WHERE id = $1 AND user_id = $2 RETURNING ${ORDER_COLUMNS}`,
          [id.toString(), userKey.toString()],
        );
        return rows[0];
      });
      // Someone else's order is reported exactly like a missing one.
      if (!row)
        throw notFound(`No order with id ${JSON.stringify(args.id)} for the signed-in user`, { argumentName: 'id' });
      ctx.cacheTags.changed('Order', args.id);
      ctx.cacheTags.changed('User', userId);
      return toOrder(row);
    },
  },
  Order: {
    async __resolveReference(ref: { id: string }, ctx: Context) {
      const row = readable(ctx, await ctx.loaders.orderById.load(decodeId('Order', ref.id).toString()));
      return row && toOrder(row);
    },
    user: (order: OrderValue) => ({ id: encodeId('User', order.user_id) }),
    items: (order: OrderValue, _: unknown, ctx: Context) =>
      ctx.loaders.itemsByOrder.load(decodeId('Order', order.id).toString()),
    total: (order: OrderValue) => money(order.total_cents, order.currency),
    createdAt: (order: OrderValue) => order.created_at.toISOString(),
  },
  OrderItem: {
    product: (item: ItemRow) => ({ id: encodeId('Product', item.product_id) }),
    unitPrice: (item: ItemRow) => money(item.unit_price_cents),
    lineTotal: (item: ItemRow) => money(item.unit_price_cents * item.quantity),
  },
  User: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id, key: decodeId('User', ref.id) }),
    async orders(
      user: { id: string; key?: bigint },
      args: { first?: number; after?: string },
      ctx: Context,
      info: GraphQLResolveInfo,
    ) {
      const key = user.key ?? decodeId('User', user.id);
      if (!mayReadPrivate(ctx.principal, key)) throw forbidden("Another user's orders need the admin scope");
      const page = pageArgs(args, ORDERS_PAGE_SIZE);
      const withItems = selects(info, ['edges', 'node', 'items']);
      const rows = await ctx.loaders.ordersByUser.load({
        userId: key.toString(),
        first: page.first,
        after: page.after,
        withItems,
      });
      return toConnection(rows, page.first, (r) => r.id, toOrder);
    },
  },
};
