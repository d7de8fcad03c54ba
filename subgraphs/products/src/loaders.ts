import type DataLoader from 'dataloader';
import { rowsById, type Principal, type ShardedDb } from '@commerce/kit';

export interface ProductRow {
  id: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  price_cents: number;
  currency: string;
  updated_at: Date;
}

export interface ProductsLoaders {
  productById: DataLoader<string, ProductRow | null>;
}

export const PRODUCT_COLUMNS = 'id, sku, name, description, category, price_cents, currency, updated_at';

export function createProductsLoaders(db: ShardedDb, principal: Principal): ProductsLoaders {
  return {
    productById: rowsById<ProductRow>(
      db,
      principal.consistencyKey,
      `SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = ANY($1::bigint[])`,
    ),
  };
}
