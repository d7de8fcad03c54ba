import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { EventEmitter } from 'node:events';
import type { FetcherResponse } from '@apollo/utils.fetcher';
import { Agent, type Dispatcher } from 'undici';
import { CommerceError, INTERNAL_IDENTITY_HEADER, injectTraceContext } from '@commerce/common';
import { takeCallHints } from './traffic/call-hints';
import { subgraphError } from './traffic/errors';

type Fetcher = RemoteGraphQLDataSource['fetcher'];

/** Statuses whose responses cannot have a body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** Options of {@link createSubgraphAgent}. */
export interface SubgraphAgentOptions {
  /** Keep-alive connections per subgraph origin (`SUBGRAPH_MAX_CONNECTIONS`). */
  connections: number;
}

/** One keep-alive connection pool per subgraph origin; close it after the last fetch. */
export function createSubgraphAgent({ connections }: SubgraphAgentOptions): Agent {
  return new Agent({ connections, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000 });
}

/** Options of {@link createSubgraphFetcher}. */
export interface SubgraphFetcherOptions {
  /** Name of the subgraph, reported as `extensions.serviceName`. */
  serviceName: string;
  /** The shared connection pool. */
  dispatcher: Dispatcher;
  /** Budget of one fetch, response body included (`SUBGRAPH_TIMEOUT_MS`). */
  timeoutMs: number;
  /**
   * Share one subgraph call between identical queries in flight at the same
   * time, across client requests (`SUBGRAPH_DEDUPLICATION`). Default false.
   */
  deduplicate?: boolean;
}

// Headers that make two identical bodies different requests (who is asking: the signed caller, reused for a second); the request id is not one of them.
const IDENTITY_HEADERS = [INTERNAL_IDENTITY_HEADER];

/**
 * The key of a deduplicable call, or undefined when it must run on its own:
 * every call of a mutation's plan (its entity reads too: they must see the write).
 */
function dedupeKey(
  url: string,
  init: { body?: unknown; headers?: unknown },
  operation: string | undefined,
): string | undefined {
  const body = init.body;
  if (typeof body !== 'string' || operation !== 'query') return undefined;
  const headers = (init.headers ?? {}) as Record<string, string>;
  return [url, body, ...IDENTITY_HEADERS.map((name) => headers[name] ?? '')].join('\0');
}

/**
 * The error a failed subgraph exchange becomes: GATEWAY_TIMEOUT when it ran
 * out of time (its own `timeoutMs`, or the request's deadline when
 * `byDeadline`), else SUBGRAPH_UNAVAILABLE; both name the service.
 */
export function subgraphFetchError(
  serviceName: string,
  timeoutMs: number,
  error: unknown,
  byDeadline = false,
): CommerceError {
  if (error instanceof CommerceError) return error;
  if (isTimeout(error))
    return subgraphError(serviceName, byDeadline ? 'deadline' : 'timeout', { timeoutMs, cause: error });
  return subgraphError(serviceName, 'connection_failed', { cause: error });
}

/** Raised (as the abort reason) when a subgraph exchange outlives its budget. */
class SubgraphTimeoutError extends Error {
  override name = 'TimeoutError';
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'TimeoutError' || (error.cause instanceof Error && error.cause.name === 'TimeoutError'))
  );
}

/** The response headers Apollo reads (`content-type`, `cache-control`), over undici's plain object. */
class SubgraphHeaders implements Iterable<[string, string]> {
  readonly #values: Map<string, string>;
  constructor(raw: Record<string, string | string[] | undefined>) {
    this.#values = new Map();
    for (const name in raw) {
      const value = raw[name];
      if (value !== undefined) this.#values.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
  }
  get(name: string): string | null {
    return this.#values.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.#values.has(name.toLowerCase());
  }
  set(name: string, value: string): void {
    this.#values.set(name.toLowerCase(), value);
  }
  append(name: string, value: string): void {
    const current = this.get(name);
    this.set(name, current === null ? value : `${current}, ${value}`);
  }
  delete(name: string): void {
    this.#values.delete(name.toLowerCase());
  }
  entries(): IterableIterator<[string, string]> {
    return this.#values.entries();
  }
  keys(): IterableIterator<string> {
    return this.#values.keys();
  }
  values(): IterableIterator<string> {
    return this.#values.values();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.#values.entries();
  }
}

/** A fully read subgraph response, shaped like the fetch Response Apollo's data source expects. */
function subgraphResponse(url: string, status: number, headers: SubgraphHeaders, text: string): FetcherResponse {
  const response: FetcherResponse = {
    bodyUsed: false,
    url,
    redirected: false,
    status,
    ok: status >= 200 && status < 300,
    statusText: '',
    headers,
    text: async () => text,
    json: async () => JSON.parse(text) as unknown,
    arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer,
    clone: () => subgraphResponse(url, status, headers, text),
  };
  return response;
}

/**
 * The fetcher RemoteGraphQLDataSource calls, over the shared undici pool with
 * undici's `request` API (a fraction of the cost of its WHATWG `fetch`). The
 * whole exchange, body included, runs under one timer: a subgraph that stalls
 * mid-response times out too and frees its connection.
 */
export function createSubgraphFetcher({
  serviceName,
  dispatcher,
  timeoutMs,
  deduplicate = false,
}: SubgraphFetcherOptions): Fetcher {
  const fetchOnce = exchange(serviceName, dispatcher, timeoutMs);
  const inFlight = new Map<string, Promise<FetcherResponse>>();
  return (url, init = {}) => {
    const { deadline, operation } = takeCallHints(init.headers as Record<string, string> | undefined);
    // The active span (the traffic policies' attempt span) becomes the subgraph's parent; nothing while tracing is off.
    if (init.headers) injectTraceContext(init.headers as Record<string, string>);
    const key = deduplicate ? dedupeKey(url, init, operation) : undefined;
    if (key === undefined) return fetchOnce(url, init, deadline);
    let shared = inFlight.get(key);
    if (!shared) {
      // Run under the first caller's deadline.
      shared = fetchOnce(url, init, deadline).finally(() => inFlight.delete(key));
      inFlight.set(key, shared);
    }
    // Each caller reads its own copy (its own text/json promises).
    return shared.then((response) => response.clone());
  };
}

/** One HTTP exchange; `deadline` (epoch ms) is the client request's. */
type Exchange = (url: string, init: Parameters<Fetcher>[1], deadline: number | undefined) => ReturnType<Fetcher>;

function exchange(serviceName: string, dispatcher: Dispatcher, timeoutMs: number): Exchange {
  // A subgraph's fetcher sees one URL (two around a supergraph change): parse it once.
  let parsedUrl: { url: string; origin: string; path: string } | undefined;
  return async (url, init = {}, deadline) => {
    if (parsedUrl?.url !== url) {
      const target = new URL(url);
      parsedUrl = { url, origin: target.origin, path: `${target.pathname}${target.search}` };
    }
    const target = parsedUrl;
    // The attempt's budget: SUBGRAPH_TIMEOUT_MS, or less when the request's deadline comes first.
    const remaining = deadline === undefined ? Infinity : deadline - Date.now();
    const byDeadline = remaining < timeoutMs;
    const budget = byDeadline ? remaining : timeoutMs;
    if (budget <= 0) throw subgraphError(serviceName, 'deadline');
    const abort = new EventEmitter();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.emit('abort');
    }, budget);
    const external = init.signal as AbortSignal | undefined;
    const onExternalAbort = () => abort.emit('abort', external?.reason);
    external?.addEventListener('abort', onExternalAbort, { once: true });
    try {
      const { statusCode, headers, body } = await dispatcher.request({
        origin: target.origin,
        path: target.path,
        method: (init.method ?? 'POST') as Dispatcher.HttpMethod,
        headers: init.headers as Record<string, string> | undefined,
        body: init.body as string | undefined,
        signal: abort,
      });
      const text = NULL_BODY_STATUSES.has(statusCode) ? '' : await body.text();
      return subgraphResponse(url, statusCode, new SubgraphHeaders(headers), text);
    } catch (error) {
      throw subgraphFetchError(
        serviceName,
        budget,
        timedOut ? new SubgraphTimeoutError('subgraph timed out', { cause: error }) : error,
        byDeadline,
      );
    } finally {
      clearTimeout(timer);
      external?.removeEventListener('abort', onExternalAbort);
    }
  };
}
