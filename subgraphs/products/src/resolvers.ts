import { badUserInput, notFound } from '@commerce/common';
import { decodeId, encodeId, money, pageArgs, requireScope, toConnection, type SubgraphContext } from '@commerce/kit';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { PRODUCT_COLUMNS, type ProductRow, type ProductsLoaders } from './loaders';

type Context = SubgraphContext<ProductsLoaders>;

interface UpdateProductInput {
  name?: string | null;
  description?: string | null;
  category?: string | null;
  priceAmount?: number | null;
}

function toProduct(row: ProductRow) {
  return {
    id: encodeId('Product', row.id),
    sku: row.sku,
    name: row.name,
    description: row.description,
    category: row.category,
    price: money(row.price_cents, row.currency),
    updatedAt: row.updated_at.toISOString(),
  };
}

function text(value: string | null | undefined, field: string, max: number): string | null {
  if (value == null) return null;
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max)
    throw badUserInput(`input.${field} must be 1-${max} characters`, { argumentName: `input.${field}` });
  return trimmed;
}

export const resolvers: GraphQLResolverMap<Context> = {
  Query: {
    async product(_: unknown, args: { id: string }, ctx: Context) {
      const row = await ctx.loaders.productById.load(decodeId('Product', args.id).toString());
      if (!row) throw notFound(`No product with id ${JSON.stringify(args.id)}`, { argumentName: 'id' });
      return toProduct(row);
    },
    async products(_: unknown, args: { first?: number; after?: string; category?: string | null }, ctx: Context) {
      const page = pageArgs(args);
      const results = await ctx.db.readAll<ProductRow>(
        ctx.principal.consistencyKey,
        `SELECT ${PRODUCT_COLUMNS} FROM products WHERE ($1::bigint IS NULL OR id > $1) AND ($2::text IS NULL OR category = $2) ORDER BY id LIMIT $3`,
        [page.after?.toString() ?? null, args.category ?? null, page.first + 1],
      );
      const rows = results.flatMap((r) => r.rows).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      return toConnection(rows, page.first, (r) => r.id, toProduct);
    },
  },
  Mutation: {
    async updateProduct(_: unknown, args: { id: string; input: UpdateProductInput }, ctx: Context) {
      requireScope(ctx.principal, 'products:write', 'updateProduct');
      const id = decodeId('Product', args.id);
      const { input } = args;
      if (input.priceAmount != null && (!Number.isInteger(input.priceAmount) || input.priceAmount < 0)) {
        throw badUserInput(`input.priceAmount must be a non-negative integer (cents), got ${input.priceAmount}`, {
          argumentName: 'input.priceAmount',
        });
      }
      const values = [
        text(input.name, 'name', 200),
        text(input.description, 'description', 5000),
        text(input.category, 'category', 64),
        input.priceAmount ?? null,
      ];
      const row = await ctx.db.transaction(ctx.db.shardOf(id), ctx.principal.consistencyKey, async (tx) => {
        const { rows } = await tx.query<ProductRow>(
          `UPDATE products SET name = coalesce($2, name), description = coalesce($3, description), category = coalesce($4, category),
             price_cents = coalesce($5, price_cents), updated_at = now()
           WHERE id = $1 RETURNING ${PRODUCT_COLUMNS}`,
          [id.toString(), ...values],
        );
        return rows[0];
      });
      if (!row) throw notFound(`No product with id ${JSON.stringify(args.id)}`, { argumentName: 'id' });
      ctx.cacheTags.changed('Product', args.id);
      return toProduct(row);
    },
  },
  Product: {
    async __resolveReference(ref: { id: string }, ctx: Context) {
      const row = await ctx.loaders.productById.load(decodeId('Product', ref.id).toString());
      return row && toProduct(row);
    },
  },
};
