import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Counter } from 'prom-client';
import type { GraphQLError } from 'graphql';
import { CommerceError, ERROR_CODES, type ErrorCode, type Logger } from '@commerce/common';
import type { GatewayContext } from './context';
import type { SubgraphResult } from './metrics';
import { collectTags } from './cache/collector';
import { principalHeaders } from './principal';

type Base = RemoteGraphQLDataSource<GatewayContext>;
type ReceivedResponse = Parameters<NonNullable<Base['didReceiveResponse']>>[0];
type GatewayResponse = ReceivedResponse['response'];
type FetcherResponse = Awaited<ReturnType<Base['fetcher']>>;

/** Options of {@link SubgraphDataSource}. */
export interface SubgraphDataSourceOptions {
  /** Subgraph name, as in the supergraph. */
  name: string;
  /** Routing URL (the supergraph's, or its `SUBGRAPH_URLS` override). */
  url: string;
  /** See createSubgraphFetcher. */
  fetcher: Base['fetcher'];
  /** `gateway_subgraph_requests_total`. */
  requests: Counter<'subgraph' | 'result'>;
  logger: Logger;
}

/** Apollo asks subgraphs for inline traces (ftv1) when it reports usage; we never want them. */
const TRACE_HEADER = 'apollo-federation-include-trace';

function registryCode(value: unknown): ErrorCode | undefined {
  return typeof value === 'string' && value !== 'INTERNAL_SERVER_ERROR' && Object.hasOwn(ERROR_CODES, value)
    ? (value as ErrorCode)
    : undefined;
}

/**
 * One subgraph: forwards the principal, counts every fetch by result, and
 * turns every transport failure into a CommerceError naming the service.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #options: SubgraphDataSourceOptions;

  constructor(options: SubgraphDataSourceOptions) {
    super({ url: options.url, fetcher: options.fetcher });
    this.#options = options;
  }

  /** Plan warm-up requests never reach a subgraph. */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayResponse> {
    if ((options.context as Partial<GatewayContext>).warmup) return { data: null };
    return super.process(options);
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    if (!headers) return;
    headers.delete(TRACE_HEADER);
    const principal = (context as Partial<GatewayContext>).principal;
    if (principal) {
      for (const [name, value] of Object.entries(principalHeaders(principal))) headers.set(name, value);
    }
  }

  override didReceiveResponse({ response, context }: ReceivedResponse): GatewayResponse {
    this.#count(response.errors?.length ? 'graphql_error' : 'ok');
    const tags = (context as Partial<GatewayContext>).cacheTags;
    if (tags) collectTags(tags, response.extensions);
    return response;
  }

  override didEncounterError(error: Error, _request: unknown, response?: FetcherResponse): never {
    const { name, logger } = this.#options;
    let result: SubgraphResult = 'invalid_response';
    if (error instanceof CommerceError) {
      if (response) result = 'http_error';
      else result = error.code === 'GATEWAY_TIMEOUT' ? 'timeout' : 'unavailable';
    }
    this.#count(result);
    logger.warn({ subgraph: name, result, err: (error instanceof CommerceError && error.originalError) || error }, 'subgraph request failed');
    if (error instanceof CommerceError) throw error;
    throw new CommerceError('SUBGRAPH_UNAVAILABLE', `Subgraph "${name}" sent an invalid response`, {
      extensions: { serviceName: name },
      cause: error,
      status: 200,
    });
  }

  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    const { name } = this.#options;
    const extensions = { serviceName: name };
    let first: { message?: unknown; extensions?: { code?: unknown } } | undefined;
    try {
      first = (JSON.parse(await response.text()) as { errors?: (typeof first)[] }).errors?.[0];
    } catch {
      first = undefined;
    }
    const code = registryCode(first?.extensions?.code);
    if (code && typeof first?.message === 'string') return new CommerceError(code, first.message, { extensions, status: 200 });
    return new CommerceError('SUBGRAPH_UNAVAILABLE', `Subgraph "${name}" answered HTTP ${response.status}`, { extensions, status: 200 });
  }

  #count(result: SubgraphResult): void {
    this.#options.requests.inc({ subgraph: this.#options.name, result });
  }
}
