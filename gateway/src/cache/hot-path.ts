import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { etagOf, sendValidated, type CompleteResponse, type Logger, type RawGraphQLRequest, type RedisClient } from '@commerce/common';
import type { GatewayContext } from '../context';
import type { GatewayMetrics } from '../metrics';
import { REQUEST_ID_HEADER } from '../principal';
import { TaggedLru } from './tagged-lru';

/** What the response cache tells the hot path about a response it stored or served. */
export interface CacheEntryInfo {
  maxAge: number;
  scope: 'PUBLIC' | 'PRIVATE';
  storedAt: number;
  tags: readonly string[];
}

interface HotEntry extends CacheEntryInfo {
  /** The response bytes, encoded once. */
  body: Buffer;
  contentLength: string;
  contentType: string;
  etag: string | undefined;
}

/** What an invalidation message says: entity tags, entity types, or everything. */
type Invalidation = { tags: readonly string[] } | { types: readonly string[] } | { all: true };

// Request headers that change what a response is, or whether it may be served.
const VARYING_HEADERS = ['x-user-id', 'x-session-id', 'authorization', 'accept', 'content-type', 'apollo-require-preflight', 'x-apollo-operation-name'];
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The in-memory hot path in front of the response cache: the exact bytes of
 * a response the cache already holds, keyed by the exact bytes of the request
 * (method, query string, body and the headers that vary the answer). A repeat
 * is answered before parsing, planning or plugins run. Entries die with their
 * cache entry: by TTL, by tag invalidation here or — through Redis pub/sub —
 * in any other gateway instance; while that channel is down, the hot path is
 * off (it could not hear other instances' invalidations).
 */
export function createHotPath(options: { maxBytes: number; redis?: RedisClient; channel: string; metrics: Pick<GatewayMetrics, 'responseCache'>; logger: Logger }) {
  const entries = new TaggedLru<HotEntry>(options.maxBytes, (entry) => entry.body.length);
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
    if (req.headers['x-debug'] !== undefined || req.headers['x-cost-report'] !== undefined) return undefined;
    const hash = createHash('sha256').update(req.method ?? '').update('\0').update(raw.search).update('\0').update(raw.body ?? '');
    for (const name of VARYING_HEADERS) hash.update('\0').update(String(req.headers[name] ?? ''));
    return hash.digest('base64url');
  }

  return {
    /** Answers an exact repeat of a cached request; true if it did. */
    shortcut(req: IncomingMessage, res: ServerResponse, raw: RawGraphQLRequest): boolean {
      if (!usable || entries.size === 0) return false;
      const key = fingerprint(req, raw);
      const entry = key === undefined ? undefined : entries.get(key);
      if (!entry) return false;
      const age = Math.max(0, Math.floor((Date.now() - entry.storedAt) / 1000));
      const clientId = req.headers[REQUEST_ID_HEADER];
      res.setHeader('content-type', entry.contentType);
      res.setHeader('cache-control', `max-age=${Math.max(0, entry.maxAge - age)}, ${entry.scope.toLowerCase()}`);
      res.setHeader('age', String(age));
      res.setHeader('x-cache', 'HIT');
      res.setHeader(REQUEST_ID_HEADER, typeof clientId === 'string' && SAFE_REQUEST_ID.test(clientId) ? clientId : randomUUID());
      options.metrics.responseCache.inc({ result: 'hit' });
      if (entry.etag !== undefined) {
        sendValidated(req, res, entry.body, entry.etag);
      } else {
        res.setHeader('content-length', entry.contentLength);
        res.end(entry.body);
      }
      return true;
    },
    /** Remembers a response the response cache stored or served. */
    onResponse(req: IncomingMessage, raw: RawGraphQLRequest, context: GatewayContext | undefined, response: CompleteResponse): void {
      const info = context?.outcome.cacheEntry;
      if (!usable || !info || response.status !== 200) return;
      const ttl = info.storedAt + info.maxAge * 1000 - Date.now();
      const key = fingerprint(req, raw);
      if (key === undefined || ttl <= 0) return;
      const body = Buffer.from(response.body);
      const etag = req.method === 'GET' && info.scope === 'PUBLIC' ? etagOf(body) : undefined;
      entries.set(key, { ...info, body, contentLength: String(body.length), etag, contentType: response.headers.get('content-type') ?? 'application/json' }, ttl);
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
