import { isDeepStrictEqual } from 'node:util';

/** A response as received, bytes and all. */
export interface Received {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends one POST (a GraphQL request) with a timeout. */
export async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs = 30_000,
): Promise<Received> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Where two JSON values first differ (a path and both values), for an error a human can act on. */
export function firstDifference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  const show = (v: unknown) => JSON.stringify(v)?.slice(0, 120);
  if (
    typeof a !== 'object' ||
    typeof b !== 'object' ||
    a === null ||
    b === null ||
    Array.isArray(a) !== Array.isArray(b)
  ) {
    return `${path}: ${show(a)} ≠ ${show(b)}`;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length)
    return `${path}: ${a.length} items ≠ ${b.length} items`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const diff = firstDifference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      Array.isArray(a) ? `${path}[${key}]` : `${path}.${key}`,
    );
    if (diff) return diff;
  }
  return `${path}: differs`;
}

/** How a target's answer compares with the reference. */
export interface Comparison {
  /** Parsed JSON deep-equal to the reference's (the check that must pass). */
  deepEqual: boolean;
  /** The very same bytes (key order and formatting included). */
  bytesIdentical: boolean;
  /** The first difference when not deep-equal. */
  difference?: string;
}

/** Parses a GraphQL response; undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function compare(received: Received, reference: { text: string; json: unknown }): Comparison {
  if (received.status !== 200)
    return { deepEqual: false, bytesIdentical: false, difference: `HTTP ${received.status}` };
  if (received.text === reference.text) return { deepEqual: true, bytesIdentical: true };
  const difference = firstDifference(parseJson(received.text), reference.json);
  return difference
    ? { deepEqual: false, bytesIdentical: false, difference }
    : { deepEqual: true, bytesIdentical: false };
}
