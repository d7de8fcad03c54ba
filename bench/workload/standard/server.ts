import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { SUBGRAPH_NAMES, buildStandardSubgraph, type SubgraphName } from './subgraphs';

/** Options of {@link startStandardSubgraphs}. */
export interface StandardSubgraphsOptions {
  /** Interface to listen on. Default `127.0.0.1` (loopback only). */
  host?: string;
  /**
   * `Cache-Control` header sent with every subgraph response. Default
   * `public, max-age=300`: the published subgraphs send none, but a gateway
   * that caches whole responses takes its policy from these headers, and
   * without one nothing is cacheable. It changes no byte of the data.
   */
  cacheControl?: string;
}

/** The four subgraphs on one HTTP server, `POST /<name>`. */
export interface StandardSubgraphs {
  /** Subgraph name → its URL (`http://127.0.0.1:<port>/<name>`). */
  readonly urls: Readonly<Record<SubgraphName, string>>;
  /** Requests served, per subgraph (for the report: subgraph fetches per query). */
  readonly requests: Readonly<Record<SubgraphName, number>>;
  /** Closes the server and its connections. Idempotent. */
  stop(): Promise<void>;
}

/** Parsed and validated documents per subgraph; a gateway sends a handful of distinct ones. */
const DOCUMENT_CACHE_LIMIT = 1000;

function documentOf(
  schema: GraphQLSchema,
  cache: Map<string, DocumentNode | Error>,
  query: string,
): DocumentNode | Error {
  let document = cache.get(query);
  if (document === undefined) {
    try {
      const parsed = parse(query);
      const errors = validate(schema, parsed);
      document = errors.length > 0 ? new Error(errors.map((e) => e.message).join('; ')) : parsed;
    } catch (error) {
      document = error as Error;
    }
    if (cache.size >= DOCUMENT_CACHE_LIMIT) cache.clear();
    cache.set(query, document);
  }
  return document;
}

/**
 * Answers already computed, by exact request body: the data never changes,
 * and gateways send the same few requests again and again. This keeps the
 * subgraphs as cheap as the published (Rust) ones, so the gateway under test,
 * not the shared load CPU, limits the measurement. Bounded, like the documents.
 */
const ANSWER_CACHE_LIMIT = 10_000;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string | Buffer, cacheControl?: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  if (cacheControl) res.setHeader('cache-control', cacheControl);
  res.end(body);
}

/** Starts the standard workload's subgraphs on a free loopback port. */
export async function startStandardSubgraphs(options: StandardSubgraphsOptions = {}): Promise<StandardSubgraphs> {
  const host = options.host ?? '127.0.0.1';
  const cacheControl = options.cacheControl ?? 'public, max-age=300';
  const schemas = new Map<
    string,
    { name: SubgraphName; schema: GraphQLSchema; documents: Map<string, DocumentNode | Error> }
  >(SUBGRAPH_NAMES.map((name) => [`/${name}`, { name, schema: buildStandardSubgraph(name), documents: new Map() }]));
  const answers = new Map<string, Buffer>();
  const requests = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, 0])) as Record<SubgraphName, number>;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const subgraph = schemas.get((req.url ?? '').split('?')[0]!);
    if (!subgraph || req.method !== 'POST') {
      req.resume();
      return send(
        res,
        subgraph ? 405 : 404,
        JSON.stringify({ errors: [{ message: `POST /<${SUBGRAPH_NAMES.join('|')}>` }] }),
      );
    }
    requests[subgraph.name]++;
    let params: { query?: unknown; variables?: Record<string, unknown> | null; operationName?: string | null };
    const raw = await readBody(req);
    const key = `${subgraph.name}\0${raw}`;
    const known = answers.get(key);
    if (known) return send(res, 200, known, cacheControl);
    try {
      params = JSON.parse(raw) as typeof params;
    } catch {
      return send(res, 400, JSON.stringify({ errors: [{ message: 'The body must be JSON' }] }));
    }
    if (typeof params.query !== 'string')
      return send(res, 400, JSON.stringify({ errors: [{ message: 'query must be a string' }] }));
    const document = documentOf(subgraph.schema, subgraph.documents, params.query);
    if (document instanceof Error) return send(res, 400, JSON.stringify({ errors: [{ message: document.message }] }));
    const result = await execute({
      schema: subgraph.schema,
      document,
      variableValues: params.variables,
      operationName: params.operationName,
    });
    if (result.errors) return send(res, 200, JSON.stringify(result));
    const answer = Buffer.from(JSON.stringify(result));
    if (answers.size >= ANSWER_CACHE_LIMIT) answers.clear();
    answers.set(key, answer);
    send(res, 200, answer, cacheControl);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) =>
      send(res, 500, JSON.stringify({ errors: [{ message: String(error) }] })),
    );
  });
  // Gateways keep their connections between rounds; do not close them under their feet.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, `http://${host}:${port}/${name}`])) as Record<
    SubgraphName,
    string
  >;
  let stopping: Promise<void> | undefined;
  return {
    urls,
    requests,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
