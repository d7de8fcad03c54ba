import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import type { Registry } from 'prom-client';
import { errorBody } from './errors';
import { isDraining } from './listen';
import type { ServiceMetrics } from './metrics';

/** Options of {@link createGraphQLHttpHandler}. */
export interface GraphQLHttpOptions<TContext extends BaseContext> {
  /** A started Apollo Server. */
  apollo: ApolloServer<TContext>;
  /** Builds the per-request context (loaders, principal…). May throw a GraphQLError. */
  context: (req: IncomingMessage) => Promise<TContext>;
  metrics: ServiceMetrics;
  /** Produces the `/metrics` text instead of the service registry (e.g. aggregated over cluster workers). */
  metricsText?: () => Promise<string>;
  /**
   * `/ready` answers 200 only while this returns true (or `{ ready: true }`). An object's other
   * fields go into the body, e.g. which dependency is unreachable. Default: always ready.
   */
  ready?: () => boolean | ReadyState | Promise<boolean | ReadyState>;
  /** Path of the GraphQL endpoint. Default `/graphql`. */
  path?: string;
  /** Largest accepted request body in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * How much of a body over `bodyLimit` is read and discarded before the 413
   * is sent, so that a client that sent it without `Expect: 100-continue`
   * can read the answer instead of a reset connection. Default 8 MiB.
   */
  discardLimit?: number;
  /**
   * Deepest nesting of arrays and objects accepted in a JSON body or in the
   * `variables`/`extensions` query parameters; deeper ones are refused with
   * BAD_USER_INPUT before anything recurses over them. Default 64.
   */
  maxJsonDepth?: number;
  /**
   * Sees (and may replace or refuse) the GraphQL parameters of every request
   * before Apollo Server does: persisted documents resolve ids to queries here.
   */
  prepare?: (params: GraphQLParams, req: IncomingMessage) => PrepareResult | Promise<PrepareResult>;
  /**
   * May answer a GraphQL request after `prepare` and before Apollo Server runs
   * (an in-memory response cache keyed by the request's exact bytes), with the
   * request's context already built; returns (or resolves to) true if it did.
   */
  shortcut?: (
    req: IncomingMessage,
    res: ServerResponse,
    raw: RawGraphQLRequest,
    context: TContext,
  ) => boolean | Promise<boolean>;
  /**
   * Admits each operation Apollo Server is about to run (after `shortcut`):
   * resolves with the function to call when it is done; a rejection is
   * answered 503 SERVICE_UNAVAILABLE with its message and `Retry-After: 1`.
   */
  admit?: () => Promise<() => void>;
  /** Sees every complete GraphQL response, with the context Apollo Server ran it with. */
  onResponse?: (
    req: IncomingMessage,
    raw: RawGraphQLRequest,
    context: TContext | undefined,
    response: CompleteResponse,
  ) => void;
  /** Extra routes (exact path → handler), checked before the GraphQL path. */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse) => void | Promise<void>>;
}

/** What a `ready` check may answer instead of a boolean: the verdict and details for the body. */
export interface ReadyState {
  ready: boolean;
  [detail: string]: unknown;
}

/** GraphQL request parameters as a client sent them (POST JSON body or GET query string). */
export interface GraphQLParams {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
  /** The GraphQL-over-HTTP persisted documents proposal's document identifier. */
  documentId?: unknown;
}

/** What {@link GraphQLHttpOptions.prepare} decides: go on with these parameters, or answer now. */
export type PrepareResult =
  { params: GraphQLParams } | { reject: { status: number; body: string; headers?: Record<string, string> } };

const JSON_PARAMS = ['variables', 'extensions'] as const;

function paramsFromSearch(search: string): GraphQLParams {
  const query = new URLSearchParams(search);
  const params: Record<string, unknown> = {};
  for (const [key, value] of query) params[key] = value;
  for (const key of JSON_PARAMS) {
    const raw = params[key];
    if (typeof raw === 'string') {
      try {
        params[key] = JSON.parse(raw);
      } catch {
        // Left as text: Apollo Server reports the malformed parameter.
      }
    }
  }
  return params;
}

function searchFromParams(params: GraphQLParams): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    search.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return `?${search}`;
}

/** A GraphQL request as received: its query string and, for POST, its body text. */
export interface RawGraphQLRequest {
  search: string;
  body: string | undefined;
}

/** A complete GraphQL response as sent. */
export interface CompleteResponse {
  status: number;
  headers: HeaderMap;
  body: string;
}

/** Thrown by {@link readBody} when the body exceeds its limit. */
export class BodyTooLarge extends Error {}

/** Reads a request body as UTF-8 (invalid sequences replaced), refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return (await readBodyBytes(req, limit)).toString('utf8');
}

const DEFAULT_DISCARD_LIMIT = 8 * 1024 * 1024;

/**
 * Reads a request body's bytes, refusing more than `limit` of them. An
 * oversized body is read on and discarded up to `discardLimit` bytes in all
 * before the refusal, so that the 413 reaches a client still sending (closing
 * a socket with unread data resets it); past that bound it is refused at once.
 */
function readBodyBytes(req: IncomingMessage, limit: number, discardLimit = DEFAULT_DISCARD_LIMIT): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const chunks: Buffer[] = [];
    let size = 0;
    const refuse = () => {
      req.removeAllListeners('data');
      req.removeAllListeners('end');
      reject(new BodyTooLarge());
    };
    if (declared > discardLimit) return refuse();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > discardLimit) return refuse();
      if (size > limit || declared > limit) return;
      chunks.push(chunk);
    });
    req.on('end', () => (size > limit || declared > limit ? refuse() : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/** Media types of the POST bodies a GraphQL endpoint parses (GraphQL over HTTP); parameters other than a UTF-8 charset refuse it. */
const JSON_MEDIA_TYPES = new Set(['application/json', 'application/graphql-response+json']);

/** True for `application/json` or `application/graphql-response+json`, optionally with `charset=utf-8`. */
export function isJsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type = '', ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (!JSON_MEDIA_TYPES.has(type)) return false;
  return parameters.every((parameter) => parameter === '' || /^charset="?utf-8"?$/.test(parameter));
}

/**
 * Adds `Vary` to every GraphQL response once its headers are final (any code
 * path writing them: Apollo Server, a cache hit, a refusal): `Accept`
 * always (it picks the response media type), and `Authorization` and
 * `Cookie` unless the response is `Cache-Control: public` (the answer may
 * depend on who asks). Names already set (e.g. `Origin` by CORS) are kept.
 */
function varyWhenWritten(res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
    const names = new Set(
      String(res.getHeader('vary') ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== ''),
    );
    names.add('Accept');
    if (!/\bpublic\b/.test(String(res.getHeader('cache-control') ?? ''))) {
      names.add('Authorization');
      names.add('Cookie');
    }
    res.setHeader('vary', [...names].join(', '));
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
}

/**
 * True when `value` nests arrays and objects deeper than `limit` (a scalar is
 * depth 0). Iterative and stops at the first branch over the limit, so a
 * 200,000-deep array costs no stack and little time.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Sends a complete response with its length. */
export function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'application/json; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function serveMetrics(registry: Registry, res: ServerResponse): Promise<void> {
  send(res, 200, await registry.metrics(), registry.contentType);
}

/**
 * A `node:http` request listener serving GraphQL through Apollo Server plus
 * `/health`, `/ready` and `/metrics`. Malformed or oversized bodies get a
 * GraphQL-shaped 4xx error; nothing a client sends can produce a 5xx here.
 */
export function createGraphQLHttpHandler<TContext extends BaseContext>(options: GraphQLHttpOptions<TContext>) {
  const path = options.path ?? '/graphql';
  const limit = options.bodyLimit ?? 1024 * 1024;
  const discardLimit = Math.max(limit, options.discardLimit ?? DEFAULT_DISCARD_LIMIT);
  const maxJsonDepth = options.maxJsonDepth ?? 64;
  const { httpRequests } = options.metrics;

  function tooDeep(res: ServerResponse): number {
    send(
      res,
      400,
      errorBody('BAD_USER_INPUT', `The request's JSON nests deeper than ${maxJsonDepth} levels`, {
        limit: maxJsonDepth,
      }),
    );
    return 400;
  }

  async function graphql(req: IncomingMessage, res: ServerResponse, search: string): Promise<number> {
    let body: unknown;
    let raw: string | undefined;
    varyWhenWritten(res);
    if (req.method === 'POST') {
      let bytes: Buffer;
      try {
        bytes = await readBodyBytes(req, limit, discardLimit);
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          res.setHeader('connection', 'close');
          send(res, 413, errorBody('PAYLOAD_TOO_LARGE', `Request body is larger than the limit of ${limit} bytes`));
          return 413;
        }
        throw error;
      }
      try {
        raw = UTF8.decode(bytes);
      } catch {
        send(res, 400, errorBody('BAD_REQUEST', 'The request body is not valid UTF-8'));
        return 400;
      }
      // Only JSON is parsed: a form, text or made-up type is refused before anything reads it (no CSRF-able body).
      if (!isJsonMediaType(req.headers['content-type'])) {
        send(
          res,
          415,
          errorBody(
            'UNSUPPORTED_MEDIA_TYPE',
            'A POST body must be application/json or application/graphql-response+json (UTF-8)',
            { accepted: [...JSON_MEDIA_TYPES] },
          ),
        );
        return 415;
      }
      try {
        body = raw === '' ? undefined : JSON.parse(raw);
      } catch (error) {
        send(res, 400, errorBody('BAD_REQUEST', `Malformed JSON body: ${(error as Error).message}`));
        return 400;
      }
      if (nestsDeeperThan(body, maxJsonDepth)) return tooDeep(res);
    }
    if (req.method === 'GET' && search !== '') {
      const { variables, extensions } = paramsFromSearch(search);
      if (nestsDeeperThan(variables, maxJsonDepth) || nestsDeeperThan(extensions, maxJsonDepth)) return tooDeep(res);
    }
    const received: RawGraphQLRequest = { search, body: raw };
    // Built once, before anything may answer; a failure is reported by Apollo Server as the context's error.
    let context: TContext | undefined;
    let contextError: unknown;
    try {
      context = await options.context(req);
    } catch (error) {
      contextError = error;
    }
    if (options.prepare) {
      const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
      const params: GraphQLParams | undefined =
        req.method === 'GET' ? paramsFromSearch(search) : isObject ? (body as GraphQLParams) : undefined;
      if (params) {
        const decided = await options.prepare(params, req);
        if ('reject' in decided) {
          for (const [key, value] of Object.entries(decided.reject.headers ?? {})) res.setHeader(key, value);
          send(res, decided.reject.status, decided.reject.body);
          return decided.reject.status;
        }
        if (decided.params !== params) {
          if (req.method === 'GET') search = searchFromParams(decided.params);
          else body = decided.params;
        }
      }
    }
    if (context !== undefined && options.shortcut) {
      const answered = options.shortcut(req, res, received, context);
      if (answered === true || (answered !== false && (await answered))) return res.statusCode;
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    let release: (() => void) | undefined;
    if (options.admit) {
      try {
        release = await options.admit();
      } catch (error) {
        res.setHeader('retry-after', '1');
        send(res, 503, errorBody('SERVICE_UNAVAILABLE', (error as Error).message));
        return 503;
      }
    }
    let response: Awaited<ReturnType<ApolloServer<TContext>['executeHTTPGraphQLRequest']>>;
    try {
      response = await options.apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
        context: async () => {
          if (context === undefined) throw contextError;
          return context;
        },
      });
    } finally {
      release?.();
    }
    const status = response.status ?? 200;
    for (const [key, value] of response.headers) res.setHeader(key, value);
    if (response.body.kind === 'complete') {
      options.onResponse?.(req, received, context, { status, headers: response.headers, body: response.body.string });
      if (req.method === 'GET' && status === 200 && /\bpublic\b/.test(response.headers.get('cache-control') ?? '')) {
        return sendValidated(req, res, response.body.string);
      }
      res.statusCode = status;
      // Encoded once: measuring the string and then writing it would flatten and encode it twice.
      const encoded = Buffer.from(response.body.string);
      res.setHeader('content-length', encoded.length);
      res.end(encoded);
    } else {
      res.writeHead(status);
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
    return status;
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [pathname, query = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
    let route = pathname;
    let status = 500;
    // No response of ours is to be read as anything but its declared type.
    res.setHeader('x-content-type-options', 'nosniff');
    try {
      if (pathname === '/health') {
        send(res, 200, '{"status":"ok"}');
        status = 200;
      } else if (pathname === '/ready') {
        // A draining server is not ready whatever its dependencies say, so load balancers stop sending first.
        const answer = isDraining(req)
          ? { ready: false, draining: true }
          : options.ready
            ? await options.ready()
            : true;
        const { ready, ...detail } = typeof answer === 'boolean' ? { ready: answer } : answer;
        status = ready ? 200 : 503;
        send(res, status, JSON.stringify({ status: ready ? 'ready' : 'not ready', ...detail }));
      } else if (pathname === '/metrics') {
        if (options.metricsText) send(res, 200, await options.metricsText(), options.metrics.registry.contentType);
        else await serveMetrics(options.metrics.registry, res);
        status = 200;
      } else if (options.routes?.[pathname]) {
        await options.routes[pathname](req, res);
        status = res.statusCode;
      } else if (pathname === path) {
        status = await graphql(req, res, query ? `?${query}` : '');
      } else {
        route = 'other';
        status = 404;
        send(res, 404, errorBody('NOT_FOUND', `No route for ${pathname}`));
      }
    } catch (error) {
      status = 500;
      if (!res.headersSent) send(res, 500, errorBody('INTERNAL_SERVER_ERROR', 'Internal server error'));
      else res.destroy(error as Error);
    } finally {
      httpRequests.inc({ route, method: req.method ?? 'GET', status: String(status) });
    }
  };
}

/** A strong ETag of a response body. */
export function etagOf(body: string | Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/**
 * A publicly cacheable GET response: tagged with an ETag of its bytes, and
 * answered 304 Not Modified (no body) when the client already holds them.
 */
export function sendValidated(
  req: IncomingMessage,
  res: ServerResponse,
  body: string | Buffer,
  etag = etagOf(body),
): number {
  res.setHeader('etag', etag);
  const held = req.headers['if-none-match']?.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (held?.includes(etag) || held?.includes('*')) {
    res.removeHeader('content-type');
    res.writeHead(304);
    res.end();
    return 304;
  }
  res.statusCode = 200;
  res.setHeader('content-length', typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  res.end(body);
  return 200;
}
