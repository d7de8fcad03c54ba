import { badUserInput } from '@commerce/common';

/** Relay-style connection helpers: validated page arguments and opaque cursors. */
export interface PageArgs {
  first: number;
  /** Exclusive position to continue from (an ID), decoded from `after`. */
  after?: bigint;
}

export interface Connection<T> {
  edges: { node: T; cursor: string }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

const CURSOR_PREFIX = 'c1:';

export function encodeCursor(id: bigint | string): string {
  return Buffer.from(`${CURSOR_PREFIX}${id}`).toString('base64url');
}

export function decodeCursor(cursor: string, argument = 'after'): bigint {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const digits = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : '';
  if (!/^[0-9]{1,19}$/.test(digits))
    throw badUserInput(`${argument} is not a valid cursor: use an endCursor or edge cursor from a previous page`, {
      argumentName: argument,
    });
  return BigInt(digits);
}

export function pageArgs(
  args: { first?: number | null; after?: string | null },
  defaultSize = DEFAULT_PAGE_SIZE,
  max = MAX_PAGE_SIZE,
): PageArgs {
  const first = args.first ?? defaultSize;
  if (!Number.isInteger(first) || first < 0 || first > max) {
    throw badUserInput(`first must be between 0 and ${max}, got ${first}`, { argumentName: 'first', max });
  }
  return args.after == null ? { first } : { first, after: decodeCursor(args.after) };
}

/** Builds a connection from up to `first + 1` rows (the extra row means there is a next page). */
export function toConnection<R, T>(
  rows: readonly R[],
  first: number,
  idOf: (row: R) => bigint | string,
  nodeOf: (row: R) => T,
): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((row) => ({ node: nodeOf(row), cursor: encodeCursor(idOf(row)) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
