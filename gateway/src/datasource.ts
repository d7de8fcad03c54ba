import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { parseCacheControlHeader } from '@apollo/gateway/dist/datasources/parseCacheControlHeader.js';
import { HeaderMap } from '@apollo/server';
import type { FetcherHeaders } from '@apollo/utils.fetcher';
import type { Counter } from 'prom-client';
import { Kind, OperationTypeNode, parse, type GraphQLError } from 'graphql';
import { CommerceError, ERROR_CODES, type ErrorCode, type Logger } from '@commerce/common';
import type { GatewayContext } from './context';
import type { SubgraphResult } from './metrics';
import { collectTags } from './cache/collector';
import { requestDeadline, type SubgraphCall, type SubgraphTraffic } from './traffic';
import { attachCallHints } from './traffic/call-hints';
import { subgraphError } from './traffic/errors';

type Base = RemoteGraphQLDataSource<GatewayContext>;
type ReceivedResponse = Parameters<NonNullable<Base['didReceiveResponse']>>[0];
type GatewayResponse = ReceivedResponse['response'];
type FetcherResponse = Awaited<ReturnType<Base['fetcher']>>;
type IncomingOperation = Extract<GraphQLDataSourceProcessOptions<GatewayContext>, { incomingRequestContext: unknown }>;

/** Options of {@link SubgraphDataSource}. */
export interface SubgraphDataSourceOptions {
  /** Subgraph name, as in the supergraph. */
  name: string;
  /** Routing URL (the supergraph's, or its `SUBGRAPH_URLS` override). */
  url: string;
  /** See createSubgraphFetcher. */
  fetcher: Base['fetcher'];
  /** Headers every fetch of a request carries (the pipeline's `subgraphHeaders`: the caller, the request id). */
  headers: (context: GatewayContext, subgraph: string) => Readonly<Record<string, string>>;
  /** `gateway_subgraph_requests_total`. */
  requests: Counter<'subgraph' | 'result'>;
  /** The subgraph's timeout, retry, breaker and concurrency policies. */
  traffic: SubgraphTraffic;
  /** Deadline of one client request (`GATEWAY_REQUEST_TIMEOUT_MS`), for requests the deadline plugin did not see. */
  requestTimeoutMs: number;
  logger: Logger;
}

/** Apollo asks subgraphs for inline traces (ftv1) when it reports usage; we never want them. */
const TRACE_HEADER = 'apollo-federation-include-trace';

function registryCode(value: unknown): ErrorCode | undefined {
  return typeof value === 'string' && value !== 'INTERNAL_SERVER_ERROR' && Object.hasOwn(ERROR_CODES, value)
    ? (value as ErrorCode)
    : undefined;
}

/** The first root field a subgraph operation asks for (its response key). */
function firstRootField(query: string | undefined): string | undefined {
  if (!query) return undefined;
  const operation = parse(query, { noLocation: true }).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const field = operation?.selectionSet.selections.find((s) => s.kind === Kind.FIELD && !s.name.value.startsWith('__'));
  return field?.kind === Kind.FIELD ? (field.alias ?? field.name).value : undefined;
}

/**
 * Where a failed fetch belongs in the response: the list or object its
 * entities hang from (the plan's path up to the first list marker), or for a
 * root fetch the first root field it asked for.
 */
function responsePath(
  path: readonly (string | number)[] | undefined,
  query: string | undefined,
): readonly (string | number)[] | undefined {
  if (path && path.length > 0) {
    const list = path.indexOf('@');
    if (list === -1) return path;
    return list > 0 ? path.slice(0, list) : undefined;
  }
  const field = firstRootField(query);
  return field === undefined ? undefined : [field];
}

/**
 * One subgraph: forwards the pipeline's subgraph headers (the caller), runs every call under the
 * subgraph's traffic policies, counts every fetch by result, and
 * turns every transport failure into a CommerceError naming the service.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #options: SubgraphDataSourceOptions;

  constructor(options: SubgraphDataSourceOptions) {
    super({ url: options.url, fetcher: options.fetcher });
    this.#options = options;
  }

  /** Plan warm-up requests never reach a subgraph; client requests go through the traffic policies. */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayResponse> {
    // Warm-up runs the plan stage only.
    if ((options.context as Partial<GatewayContext>).phase === 'warmup') return { data: null };
    // Health checks and schema loads (the kinds without an incoming request) are not client traffic.
    if (!('incomingRequestContext' in options)) return super.process(options);
    const { traffic, requestTimeoutMs } = this.#options;
    const incoming = options.incomingRequestContext;
    const call: SubgraphCall = {
      // Decided by the client's operation: every fetch of a mutation's plan is left alone, even its entity queries.
      retryable: incoming.operation?.operation === OperationTypeNode.QUERY,
      deadline: requestDeadline(incoming.context, requestTimeoutMs),
      path: () => responsePath(options.pathInIncomingRequest, options.request.query),
    };
    return traffic.execute(call, () => this.#exchange(options));
  }

  /**
   * RemoteGraphQLDataSource's `process` for a client request (same request
   * body, hooks and cache-policy handling; APQ to subgraphs is off here)
   * without its per-call WHATWG Request and Headers objects.
   */
  async #exchange(options: IncomingOperation): Promise<GatewayResponse> {
    const { request, context } = options;
    const headers = new HeaderMap();
    if (request.http?.headers)
      for (const [name, value] of request.http.headers) {
        const current = headers.get(name);
        headers.set(name, current === undefined ? value : `${current}, ${value}`);
      }
    headers.set('content-type', 'application/json');
    request.http = { method: 'POST', url: this.url, headers: headers as unknown as FetcherHeaders };
    this.willSendRequest(options);
    if (!request.query) throw new Error('Missing query');
    const body = JSON.stringify({
      query: request.query,
      variables: request.variables,
      operationName: request.operationName,
      extensions: request.extensions,
    });
    let fetched: FetcherResponse | undefined;
    let response: GatewayResponse;
    try {
      fetched = await this.fetcher(this.url, { method: 'POST', headers: Object.fromEntries(headers), body });
      if (!fetched.ok) throw await this.errorFromResponse(fetched);
      const parsed = await this.parseBody(fetched);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error(`Expected JSON response body, but received: ${String(parsed)}`);
      response = { ...(parsed as GatewayResponse), http: fetched };
    } catch (error) {
      this.didEncounterError(error as Error, undefined, fetched);
    }
    const processed = this.didReceiveResponse({
      response,
      request,
      context: context as GatewayContext,
      pathInIncomingRequest: options.pathInIncomingRequest,
    });
    const policy = options.incomingRequestContext.overallCachePolicy;
    if (this.honorSubgraphCacheControlHeader && policy && 'restrict' in policy) {
      const parsed = parseCacheControlHeader(fetched.headers.get('cache-control')) as Record<string, string | true>;
      const maxAge = parsed['max-age'];
      const hint: { maxAge: number; scope?: 'PRIVATE' | 'PUBLIC' } = {
        maxAge: typeof maxAge === 'string' && /^[0-9]+$/.test(maxAge) ? Number(maxAge) : 0,
      };
      if (parsed.private === true) hint.scope = 'PRIVATE';
      if (parsed.public === true) hint.scope = 'PUBLIC';
      policy.restrict(hint);
    }
    return processed;
  }

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = options.request.http?.headers;
    if (!headers) return;
    headers.delete(TRACE_HEADER);
    const context = options.context as Partial<GatewayContext>;
    if (context.principal) {
      for (const [name, value] of Object.entries(this.#options.headers(context as GatewayContext, this.#options.name)))
        headers.set(name, value);
    }
    // For the fetcher: it cuts the call at the request's deadline and shares only a query's calls.
    if ('incomingRequestContext' in options) {
      const incoming = options.incomingRequestContext;
      attachCallHints(headers, {
        deadline: requestDeadline(incoming.context, this.#options.requestTimeoutMs),
        operation: incoming.operation?.operation,
      });
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
    logger.warn(
      { subgraph: name, result, err: (error instanceof CommerceError && error.originalError) || error },
      'subgraph request failed',
    );
    if (error instanceof CommerceError) throw error;
    throw subgraphError(name, 'invalid_response', { cause: error });
  }

  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    const { name } = this.#options;
    let first: { message?: unknown; extensions?: { code?: unknown } } | undefined;
    try {
      first = (JSON.parse(await response.text()) as { errors?: (typeof first)[] }).errors?.[0];
    } catch {
      first = undefined;
    }
    const code = registryCode(first?.extensions?.code);
    const message = typeof first?.message === 'string' ? first.message : undefined;
    return subgraphError(name, 'bad_status', {
      subgraphStatus: response.status,
      ...(code && message ? { code, message } : {}),
    });
  }

  #count(result: SubgraphResult): void {
    this.#options.requests.inc({ subgraph: this.#options.name, result });
  }
}
