import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import {
  AUTHOR_ID,
  AUTHOR_USERNAME,
  IN_STOCK,
  OTHER_USERNAME,
  PRODUCTS,
  REVIEWS,
  USERS,
  USER_REVIEW_IDS,
  type Product,
  type Review,
  type User,
} from './data';

/** The four subgraphs of the standard workload, in the order the workload file lists them. */
export const SUBGRAPH_NAMES = ['accounts', 'inventory', 'products', 'reviews'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** A subgraph's Federation v1 SDL, exactly as the workload file gives it. */
export function subgraphTypeDefs(name: SubgraphName): DocumentNode {
  return parse(readFileSync(new URL(`./${name}.graphql`, import.meta.url), 'utf8'));
}

/** The standard query (`TestQuery`). */
export const STANDARD_QUERY = readFileSync(new URL('./query.graphql', import.meta.url), 'utf8');

const byId = <T>(items: readonly T[], id: (item: T) => string): ReadonlyMap<string, T> =>
  new Map(items.map((item) => [id(item), item]));
const users = byId(USERS, (u) => u.id);
const products = byId(PRODUCTS, (p) => p.upc);
const reviews = byId(REVIEWS, (r) => r.id);
const userReviews = USER_REVIEW_IDS.map((id) => reviews.get(id)!);

/** A User as the reviews subgraph resolves it. */
interface ReviewsUser {
  id: string;
  username: string;
  reviews: readonly Review[];
}

/** Entity resolution tags what it returns with `__typename`: hand it a copy, never the frozen data. */
const copy = <T extends object>(item: T | undefined): T | null => (item ? { ...item } : null);

type Args<T> = Record<string, unknown> & T;

const accounts: GraphQLResolverMap<unknown> = {
  Query: {
    me: () => users.get('1'),
    user: (_: unknown, { id }: Args<{ id: string }>) => users.get(id) ?? null,
    users: () => USERS,
  },
  User: {
    __resolveReference: ({ id }: { id: string }): User | null => copy(users.get(id)),
  },
};

const inventory: GraphQLResolverMap<unknown> = {
  Product: {
    // price and weight arrive with the representation, but the published
    // inventory subgraph answers from its own rows, which have neither, so
    // shippingEstimate is always null.
    __resolveReference: ({ upc }: { upc: string }) =>
      Object.hasOwn(IN_STOCK, upc) ? { upc, inStock: IN_STOCK[upc] } : null,
    shippingEstimate: () => null,
  },
};

const productsResolvers: GraphQLResolverMap<unknown> = {
  Query: {
    topProducts: (_: unknown, { first }: Args<{ first: number }>) => PRODUCTS.slice(0, Math.max(0, first)),
  },
  Product: {
    __resolveReference: ({ upc }: { upc: string }): Product | null => copy(products.get(upc)),
  },
};

const reviewsResolvers: GraphQLResolverMap<unknown> = {
  Product: {
    __resolveReference: ({ upc }: { upc: string }) => ({ upc }),
    reviews: ({ upc }: { upc: string }) => REVIEWS.filter((r) => r.productUpc === upc),
  },
  Review: {
    __resolveReference: ({ id }: { id: string }): Review | null => copy(reviews.get(id)),
    product: (review: Review) => ({ upc: review.productUpc }),
    author: (): ReviewsUser => ({ id: AUTHOR_ID, username: AUTHOR_USERNAME, reviews: userReviews }),
  },
  User: {
    __resolveReference: ({ id }: { id: string }): ReviewsUser => ({
      id,
      username: OTHER_USERNAME,
      reviews: userReviews,
    }),
  },
};

const RESOLVERS: Record<SubgraphName, GraphQLResolverMap<unknown>> = {
  accounts,
  inventory,
  products: productsResolvers,
  reviews: reviewsResolvers,
};

/** Builds one subgraph's executable schema (it never listens: see server.ts). */
export function buildStandardSubgraph(name: SubgraphName): GraphQLSchema {
  return buildSubgraphSchema({ typeDefs: subgraphTypeDefs(name), resolvers: RESOLVERS[name] });
}
