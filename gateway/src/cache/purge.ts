import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLarge, errorBody, readBody, send, type Logger } from '@commerce/common';
import type { GatewayMetrics } from '../metrics';
import type { HotPath } from './hot-path';
import type { ResponseCacheStore } from './store';

/** Path of the admin purge endpoint. */
export const PURGE_PATH = '/admin/cache/purge';

export interface PurgeRouteOptions {
  store: ResponseCacheStore;
  /** Bearer token; without it the endpoint answers 404. */
  secret: string | undefined;
  metrics: Pick<GatewayMetrics, 'responseCacheInvalidations'>;
  logger: Logger;
  hotPath?: Pick<HotPath, 'invalidate'>;
}

interface PurgeRequest {
  tags?: string[];
  types?: string[];
  all?: boolean;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function authorized(req: IncomingMessage, secret: string): boolean {
  const header = req.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  return timingSafeEqual(digest(token), digest(secret));
}

function parse(raw: string): PurgeRequest | string {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return 'the body must be JSON: {"tags": ["Product:prd_1"]}, {"types": ["Product"]} or {"all": true}';
  }
  const { tags, types, all } = (body ?? {}) as Record<string, unknown>;
  const strings = (v: unknown) =>
    v === undefined || (Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 256));
  if (!strings(tags) || !strings(types)) return '"tags" and "types" must be arrays of non-empty strings';
  if (all !== undefined && all !== true) return '"all" must be true when given';
  if (tags === undefined && types === undefined && all === undefined)
    return 'say what to purge: "tags", "types" or "all": true';
  return { tags: tags as string[] | undefined, types: types as string[] | undefined, all: all === true };
}

/**
 * `POST /admin/cache/purge` with `Authorization: Bearer <CACHE_PURGE_SECRET>`
 * and a JSON body naming entity tags, entity types, or everything.
 * Answers `{"purged": <entries dropped>}`.
 */
export function createPurgeRoute({ store, secret, metrics, logger, hotPath }: PurgeRouteOptions) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!secret)
      return send(
        res,
        404,
        errorBody('NOT_FOUND', 'The cache purge endpoint is disabled: set CACHE_PURGE_SECRET to enable it'),
      );
    if (req.method !== 'POST') return send(res, 405, errorBody('BAD_REQUEST', 'Use POST'));
    if (!authorized(req, secret))
      return send(res, 401, errorBody('UNAUTHENTICATED', 'Send Authorization: Bearer <CACHE_PURGE_SECRET>'));
    let raw: string;
    try {
      raw = await readBody(req, 64 * 1024);
    } catch (error) {
      if (error instanceof BodyTooLarge)
        return send(res, 413, errorBody('PAYLOAD_TOO_LARGE', 'Purge requests are limited to 64 KiB'));
      throw error;
    }
    const request = parse(raw);
    if (typeof request === 'string') return send(res, 400, errorBody('BAD_REQUEST', request));
    let purged = 0;
    try {
      if (request.all) await hotPath?.invalidate({ all: true });
      if (request.tags?.length) await hotPath?.invalidate({ tags: request.tags });
      if (request.types?.length) await hotPath?.invalidate({ types: request.types });
      if (request.all) purged += await store.clear();
      if (request.tags?.length) purged += await store.invalidate(request.tags);
      if (request.types?.length) purged += await store.invalidateTypes(request.types);
    } catch (error) {
      logger.error({ err: (error as Error).message }, 'cache purge failed');
      return send(res, 503, errorBody('SERVICE_UNAVAILABLE', 'The cache store is unavailable; try again'));
    }
    metrics.responseCacheInvalidations.inc({ source: 'purge' }, purged);
    logger.info({ ...request, purged }, 'response cache purged');
    send(res, 200, JSON.stringify({ purged }));
  };
}
