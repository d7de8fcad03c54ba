import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { API_KEY_HEADER, CommerceError, REQUEST_ID_HEADER, SESSION_ID_HEADER, USER_ID_HEADER } from '@commerce/common';

/**
 * The caller identity, and the one place that reads it from a client request.
 * For now it is the development header `x-user-id`, taken as is (subgraphs
 * validate IDs); a later issue replaces this module with JWT verification.
 */
export interface Principal {
  /** Who the caller claims to be; undefined for anonymous calls. */
  readonly userId: string | undefined;
  /** Anonymous session, used by subgraphs for read-your-writes; undefined when absent. */
  readonly sessionId: string | undefined;
  /** Correlates logs across the gateway and subgraphs. */
  readonly requestId: string;
  /** sha256 (hex) of the `x-api-key` header; the key itself is never kept. Undefined when absent. */
  readonly apiKeyHash: string | undefined;
  /** Address of the connected client (IPv4-mapped IPv6 shown as IPv4); undefined if the socket is gone. */
  readonly clientIp: string | undefined;
}

export { API_KEY_HEADER, REQUEST_ID_HEADER, SESSION_ID_HEADER, USER_ID_HEADER };

/** Longest accepted `x-api-key`; longer values are refused with BAD_REQUEST. */
export const MAX_API_KEY_LENGTH = 512;

/** Longest accepted `x-user-id`; longer values are refused with BAD_REQUEST. */
export const MAX_USER_ID_LENGTH = 256;

/** A client's request id is reused only if it is short and plain. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

/** The sha256 (hex) by which an API key is known in budgets, overrides and stores. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/** Reads the principal of a client request; throws BAD_REQUEST (400) for an oversized `x-user-id` or `x-api-key`. */
export function principalFromRequest(req: IncomingMessage): Principal {
  const userId = header(req, USER_ID_HEADER);
  if (userId !== undefined && userId.length > MAX_USER_ID_LENGTH) {
    throw new CommerceError(
      'BAD_REQUEST',
      `The ${USER_ID_HEADER} header is longer than ${MAX_USER_ID_LENGTH} characters`,
    );
  }
  const apiKey = header(req, API_KEY_HEADER);
  if (apiKey !== undefined && apiKey.length > MAX_API_KEY_LENGTH) {
    throw new CommerceError(
      'BAD_REQUEST',
      `The ${API_KEY_HEADER} header is longer than ${MAX_API_KEY_LENGTH} characters`,
    );
  }
  const address = req.socket.remoteAddress;
  const clientIp = address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  const clientRequestId = header(req, REQUEST_ID_HEADER);
  const requestId =
    clientRequestId !== undefined && SAFE_REQUEST_ID.test(clientRequestId) ? clientRequestId : randomUUID();
  const session = header(req, SESSION_ID_HEADER);
  const sessionId = session !== undefined && SAFE_REQUEST_ID.test(session) ? session : undefined;
  return Object.freeze({
    userId,
    sessionId,
    requestId,
    apiKeyHash: apiKey === undefined ? undefined : hashApiKey(apiKey),
    clientIp,
  });
}

/**
 * Who a request is accounted to by rate limits and cost budgets: the user
 * (the JWT subject once authentication exists; `x-user-id` today), else the
 * API key, else the client IP. Formatted `user:<id>`, `apikey:<sha256>`,
 * `ip:<address>`; `ip:unknown` if even the address is gone.
 */
export function clientIdentity(principal: Principal): string {
  if (principal.userId !== undefined) return `user:${principal.userId}`;
  if (principal.apiKeyHash !== undefined) return `apikey:${principal.apiKeyHash}`;
  return `ip:${principal.clientIp ?? 'unknown'}`;
}

/** The headers that carry the principal to a subgraph. */
export function principalHeaders(principal: Principal): Record<string, string> {
  const headers: Record<string, string> = { [REQUEST_ID_HEADER]: principal.requestId };
  if (principal.userId !== undefined) headers[USER_ID_HEADER] = principal.userId;
  if (principal.sessionId !== undefined) headers[SESSION_ID_HEADER] = principal.sessionId;
  return headers;
}
