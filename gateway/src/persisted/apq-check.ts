import { createHash } from 'node:crypto';
import { errorBody, type GraphQLParams, type PrepareResult } from '@commerce/common';

const SHA256_HEX = /^[0-9a-f]{64}$/i;

const refuse = (code: 'BAD_REQUEST' | 'PERSISTED_QUERY_HASH_MISMATCH', message: string): PrepareResult => ({
  reject: { status: 400, body: errorBody(code, message) },
});

/**
 * Checks an automatic persisted query (`extensions.persistedQuery`) before
 * Apollo Server sees it, which would answer these mistakes without a code:
 * a malformed extension or an unsupported version is BAD_REQUEST, a query
 * whose SHA-256 (lowercase hex, as Apollo Server compares it) is not the hash
 * sent with it is PERSISTED_QUERY_HASH_MISMATCH
 * (both HTTP 400). Anything else goes on unchanged.
 */
export function checkPersistedQuery(params: GraphQLParams): PrepareResult {
  const extensions = params.extensions;
  if (typeof extensions !== 'object' || extensions === null || !('persistedQuery' in extensions)) return { params };
  const persisted = (extensions as { persistedQuery: unknown }).persistedQuery;
  if (typeof persisted !== 'object' || persisted === null)
    return refuse('BAD_REQUEST', 'extensions.persistedQuery must be an object');
  const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown };
  if (version !== 1)
    return refuse(
      'BAD_REQUEST',
      `Unsupported persisted query version ${JSON.stringify(version) ?? 'undefined'}; only version 1 is supported`,
    );
  if (typeof sha256Hash !== 'string' || !SHA256_HEX.test(sha256Hash))
    return refuse('BAD_REQUEST', 'extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits');
  if (typeof params.query !== 'string') return { params };
  const actual = createHash('sha256').update(params.query).digest('hex');
  if (actual !== sha256Hash)
    return refuse(
      'PERSISTED_QUERY_HASH_MISMATCH',
      'extensions.persistedQuery.sha256Hash is not the SHA-256 of the query sent with it',
    );
  return { params };
}
