import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  etagOf,
  sendValidated,
  type CompleteResponse,
  type Logger,
  type RawGraphQLRequest,
  type RedisClient,
} from '@commerce/common';
import type { GatewayContext } from '../context';
import type { CachedResponse, OperationFacts } from '../features/feature';
import type { GatewayMetrics } from '../metrics';
import { COST_REPORT_HEADER } from '../features/cost/plugin';
import { DEBUG_HEADER } from '../features/debug-extensions/plugin';
import { CACHE_STATUS_HEADER } from '../features/response-cache/plugin';
import { API_KEY_HEADER, SESSION_ID_HEADER } from '../principal';
import { TaggedLru } from './tagged-lru';

/** What the response cache tells the hot path about a response it stored or served. */
export interface CacheEntryInfo {
  maxAge: number;
  scope: 'PUBLIC' | 'PRIVATE';
  storedAt: number;
  tags: readonly string[];
}

interface HotEntry extends CacheEntryInfo {
  /** What the policies check on a hit, instead of parsing and planning the operation again. */
  facts: OperationFacts;
  /** The response bytes, encoded once. */
  body: Buffer;
  contentLength: string;
  contentType: string;
  etag: string | undefined;
}

/** What an invalidation message says: entity tags, entity types, or everything. */
type Invalidation = { tags: readonly string[] } | { types: readonly string[] } | { all: true };

// Request headers that change what a response is, or whether it may be served.
const VARYING_HEADERS = [
  SESSION_ID_HEADER,
  API_KEY_HEADER,
  'authorization',
  'accept',
  'content-type',
  'apollo-require-preflight',
  'x-apollo-operation-name',
];

/**
 * The in-memory hot path in front of the response cache: the exact bytes of
 * a response the cache already holds, keyed by the exact bytes of the request
 * (method, query string, body and the headers that vary the answer), with
 * the operation's facts. A repeat is answered without parsing, planning or
 * executing, after the policies of the request pipeline checked the facts
 * (features/pipeline.ts). Entries die with their
 * cache entry: by TTL, by tag invalidation here or — through Redis pub/sub —
 * in any other gateway instance; while that channel is down, the hot path is
 * off (it could not hear other instances' invalidations).
 */
export function createHotPath(options: {
  maxBytes: number;
  redis?: RedisClient;
  channel: string;
  metrics: Pick<GatewayMetrics, 'responseCache'>;
  logger: Logger;
}) {
  const entries = new TaggedLru<HotEntry>(options.maxBytes, (entry) => entry.body.length);
  const hits = options.metrics.responseCache.labels({ result: 'hit' });
  let usable = options.redis === undefined;

  function apply(message: Invalidation): void {
    if ('all' in message) entries.clear();
    else entries.dropTags('tags' in message ? message.tags : entries.tagsOfTypes(message.types));
  }

  const subscriber = options.redis?.duplicate();
  if (subscriber) {
    const down = () => {
      if (usable) options.logger.warn('response cache hot path off until Redis pub/sub is back');
      usable = false;
      entries.clear();
    };
    subscriber.on('error', down);
    subscriber.on('close', down);
    subscriber.on('ready', () => {
      // ioredis resubscribes on reconnect; anything missed meanwhile is gone with the clear above.
      void subscriber.subscribe(options.channel).then(() => (usable = true), down);
    });
    subscriber.on('message', (_channel: string, text: string) => {
      try {
        apply(JSON.parse(text) as Invalidation);
      } catch {
        entries.clear();
      }
    });
  }

  function fingerprint(req: IncomingMessage, raw: RawGraphQLRequest): string | undefined {
    // Requests asking for per-request reports (debug extensions, cost) always take the full path.
    if (req.headers[DEBUG_HEADER] !== undefined || req.headers[COST_REPORT_HEADER] !== undefined) return undefined;
    const hash = createHash('sha256')
      .update(req.method ?? '')
      .update('\0')
      .update(raw.search)
      .update('\0')
      .update(raw.body ?? '');
    for (const name of VARYING_HEADERS) hash.update('\0').update(String(req.headers[name] ?? ''));
    return hash.digest('base64url');
  }

  function send(
    entry: HotEntry,
    req: IncomingMessage,
    res: ServerResponse,
    headers: Readonly<Record<string, string>>,
  ): void {
    const age = Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000));
    res.setHeader('content-type', entry.contentType);
    res.setHeader('cache-control', `max-age=${Math.max(0, entry.maxAge - age)}, ${entry.scope.toLowerCase()}`);
    res.setHeader('age', String(age));
    res.setHeader(CACHE_STATUS_HEADER, 'HIT');
    for (const name in headers) res.setHeader(name, headers[name]!);
    if (entry.etag !== undefined) {
      sendValidated(req, res, entry.body, entry.etag);
    } else {
      res.setHeader('content-length', entry.contentLength);
      res.end(entry.body);
    }
  }

  return {
    /** The cached answer to an exact repeat of a request, if any; counted as a hit. */
    lookup(req: IncomingMessage, raw: RawGraphQLRequest): CachedResponse | undefined {
      if (!usable || entries.size === 0) return undefined;
      const key = fingerprint(req, raw);
      const entry = key === undefined ? undefined : entries.get(key);
      if (!entry) return undefined;
      hits.inc();
      return { facts: entry.facts, send: (request, res, headers) => send(entry, request, res, headers) };
    },
    /** Remembers a response the response cache stored or served. */
    onResponse(
      req: IncomingMessage,
      raw: RawGraphQLRequest,
      context: GatewayContext | undefined,
      response: CompleteResponse,
    ): void {
      const info = context?.outcome.cacheEntry;
      const operation = context?.outcome.operation;
      if (!usable || !info || !operation || response.status !== 200) return;
      const ttl = info.storedAt + info.maxAge * 1000 - Date.now();
      const key = fingerprint(req, raw);
      if (key === undefined || ttl <= 0) return;
      const body = Buffer.from(response.body);
      const etag = req.method === 'GET' && info.scope === 'PUBLIC' ? etagOf(body) : undefined;
      const facts: OperationFacts = context.outcome.cost ? { ...operation, cost: context.outcome.cost } : operation;
      entries.set(
        key,
        {
          ...info,
          facts,
          body,
          contentLength: String(body.length),
          etag,
          contentType: response.headers.get('content-type') ?? 'application/json',
        },
        ttl,
      );
    },
    /** Drops matching entries here and tells every other instance to do the same (resolves once Redis has the message). */
    async invalidate(message: Invalidation): Promise<void> {
      apply(message);
      await options.redis?.publish(options.channel, JSON.stringify(message)).catch(() => undefined);
    },
    /** Drops everything held here (e.g. a new supergraph). */
    clear(): void {
      entries.clear();
    },
    close(): void {
      subscriber?.disconnect();
      entries.clear();
    },
  };
}

export type HotPath = ReturnType<typeof createHotPath>;
