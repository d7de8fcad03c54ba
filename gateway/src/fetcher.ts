import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import { Agent, Response, fetch, type Dispatcher } from 'undici';
import { CommerceError } from '@commerce/common';

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
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || (error.cause instanceof Error && error.cause.name === 'TimeoutError'));
}

/**
 * The error a failed subgraph exchange becomes: GATEWAY_TIMEOUT or
 * SUBGRAPH_UNAVAILABLE, naming the service. It is a field error inside a
 * response that can still carry other subgraphs' data, so its HTTP status is 200.
 */
export function subgraphFetchError(serviceName: string, timeoutMs: number, error: unknown): CommerceError {
  const extensions = { serviceName };
  if (isTimeout(error)) {
    return new CommerceError('GATEWAY_TIMEOUT', `Subgraph "${serviceName}" did not answer within ${timeoutMs} ms (SUBGRAPH_TIMEOUT_MS)`, {
      extensions,
      cause: error,
      status: 200,
    });
  }
  return new CommerceError('SUBGRAPH_UNAVAILABLE', `Subgraph "${serviceName}" is unavailable`, { extensions, cause: error, status: 200 });
}

/**
 * A `fetch` for RemoteGraphQLDataSource over the shared undici pool. The whole
 * exchange, body included, runs under the timeout: the body is read here so a
 * subgraph that stalls mid-response times out too and frees its connection.
 */
export function createSubgraphFetcher({ serviceName, dispatcher, timeoutMs }: SubgraphFetcherOptions): Fetcher {
  return async (url, init = {}) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal instanceof AbortSignal ? AbortSignal.any([timeout, init.signal]) : timeout;
    try {
      const response = await fetch(url, {
        method: init.method ?? 'POST',
        headers: init.headers,
        body: init.body,
        signal,
        dispatcher,
      });
      const body = NULL_BODY_STATUSES.has(response.status) ? null : await response.arrayBuffer();
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } catch (error) {
      throw subgraphFetchError(serviceName, timeoutMs, error);
    }
  };
}
