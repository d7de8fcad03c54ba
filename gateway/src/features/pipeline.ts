import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import {
  CommerceError,
  type CompleteResponse,
  type GraphQLParams,
  type PrepareResult,
  type RawGraphQLRequest,
} from '@commerce/common';
import { createContext, type GatewayContext } from '../context';
import type { CacheHit, GatewayFeature, Route } from './feature';
import type { Identity } from './identity';

/** Options of {@link createPipeline}. */
export interface PipelineOptions {
  /** Who the caller is: established for every request before any cached answer leaves. */
  identity: Identity;
  /** The features in pipeline order (DESIGN §5.0). */
  features: readonly GatewayFeature[];
  /** Formats a refusal of a cache hit exactly as Apollo Server formats the same refusal of an operation. */
  formatError: (error: GraphQLFormattedError) => GraphQLFormattedError;
}

/** The features composed into what the HTTP layer and Apollo Server take. */
export interface Pipeline {
  /** Builds the request's context: identity first (rejects with UNAUTHENTICATED, 401, for a bad token or API key). */
  context(req: IncomingMessage): Promise<GatewayContext>;
  /** The HTTP handler inside every feature's `wrap`, the first listed feature outermost. */
  wrap(handler: RequestListener): RequestListener;
  /** Every feature's Apollo Server plugin, skipped during warm-up unless the feature runs then. */
  readonly plugins: ApolloServerPlugin<GatewayContext>[];
  readonly routes: Readonly<Record<string, Route>>;
  readonly prepare: ((params: GraphQLParams, req: IncomingMessage) => Promise<PrepareResult>) | undefined;
  /** Answers a request from a cache after the policies of the features that run on hits; true if it answered. */
  shortcut(
    req: IncomingMessage,
    res: ServerResponse,
    raw: RawGraphQLRequest,
    context: GatewayContext,
  ): boolean | Promise<boolean>;
  onResponse(
    req: IncomingMessage,
    raw: RawGraphQLRequest,
    context: GatewayContext | undefined,
    response: CompleteResponse,
  ): void;
  /** Headers every fetch of a request to the named subgraph carries. */
  subgraphHeaders(context: GatewayContext, subgraph: string): Record<string, string>;
  close(): Promise<void>;
}

/** An Apollo Server plugin that sits out the warm-up phase. */
function servingOnly(plugin: ApolloServerPlugin<GatewayContext>): ApolloServerPlugin<GatewayContext> {
  const { requestDidStart } = plugin;
  if (!requestDidStart) return plugin;
  return {
    ...plugin,
    requestDidStart: async (requestContext) =>
      requestContext.contextValue.phase === 'warmup' ? undefined : requestDidStart.call(plugin, requestContext),
  };
}

function sendRefusal(
  res: ServerResponse,
  error: CommerceError,
  hit: CacheHit,
  format: PipelineOptions['formatError'],
): void {
  // As Apollo Server does: `extensions.http` sets the status and is not sent.
  const { http, ...extensions } = error.extensions;
  const status = (http as { status?: number } | undefined)?.status ?? 400;
  const body = JSON.stringify({ errors: [format({ message: error.message, extensions })] });
  for (const [name, value] of Object.entries(hit.headers)) res.setHeader(name, value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * The one request pipeline: request id → identity → HTTP-level policies →
 * persisted documents → cache lookup → operation shape limits → field rate
 * limits → cost budget → plan → execute → cache store → response. A request
 * the cache answers skips parsing, planning and execution, never the
 * policies: each feature with `onCacheHit` checks the entry's facts in
 * order, and the first refusal is the answer.
 */
export function createPipeline({ identity, features, formatError }: PipelineOptions): Pipeline {
  const withHook = <K extends keyof GatewayFeature>(key: K) => features.filter((f) => f[key] !== undefined);
  const preparing = withHook('prepare');
  const lookups = withHook('lookup');
  const onHit = features.filter((f) => f.onCacheHit && (f.checkHit !== undefined || f.answeredHit !== undefined));
  const responding = withHook('onResponse');
  const headerSources = withHook('subgraphHeaders');
  const contextWatchers = withHook('onContext');
  const routes: Record<string, Route> = {};
  for (const feature of features) Object.assign(routes, feature.routes);

  async function answerHit(res: ServerResponse, hit: CacheHit, send: () => void): Promise<boolean> {
    let refusal: CommerceError | undefined;
    for (const feature of onHit) {
      if (!feature.checkHit) continue;
      try {
        const checked = feature.checkHit(hit);
        // A declined hit (authorization: this caller may not get the entry) takes the full path.
        if ((checked instanceof Promise ? await checked : checked) === false) return false;
      } catch (error) {
        if (!(error instanceof CommerceError)) throw error;
        refusal = error;
        break;
      }
    }
    for (const feature of onHit) {
      const answered = feature.answeredHit?.(hit, refusal);
      if (answered) await answered;
    }
    if (refusal) sendRefusal(res, refusal, hit, formatError);
    else send();
    return true;
  }

  return {
    async context(req) {
      const context = createContext(await identity.identify(req));
      for (const feature of contextWatchers) feature.onContext!(req, context);
      return context;
    },
    wrap: (handler) => withHook('wrap').reduceRight((inner, feature) => feature.wrap!(inner), handler),
    plugins: features.flatMap((f) => (f.operation ? [f.duringWarmup ? f.operation : servingOnly(f.operation)] : [])),
    routes,
    prepare:
      preparing.length === 0
        ? undefined
        : async (params, req) => {
            let decided: PrepareResult = { params };
            for (const feature of preparing) {
              decided = await feature.prepare!(decided.params, req);
              if ('reject' in decided) return decided;
            }
            return decided;
          },
    shortcut(req, res, raw, context) {
      for (const feature of lookups) {
        const cached = feature.lookup!(req, raw, context);
        if (!cached) continue;
        const hit: CacheHit = { context, facts: cached.facts, headers: {} };
        return answerHit(res, hit, () => cached.send(req, res, hit.headers));
      }
      return false;
    },
    onResponse(req, raw, context, response) {
      for (const feature of responding) feature.onResponse!(req, raw, context, response);
    },
    subgraphHeaders(context, subgraph) {
      const headers: Record<string, string> = {};
      for (const feature of headerSources) Object.assign(headers, feature.subgraphHeaders!(context, subgraph));
      return headers;
    },
    async close() {
      for (const feature of [...features].reverse()) await feature.close?.();
    },
  };
}
