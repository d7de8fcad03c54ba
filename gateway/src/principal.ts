import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { API_KEY_HEADER, REQUEST_ID_HEADER, SESSION_ID_HEADER } from '@commerce/common';

/**
 * The verified caller (README "Authentication"), established by the identity
 * feature (features/identity) before anything may answer a request.
 */
export interface Principal {
  /** `user`: a verified JWT; `apiKey`: a configured API key; `anonymous`: neither. */
  readonly kind: 'user' | 'apiKey' | 'anonymous';
  /** The verified JWT `sub` (`usr_…`); undefined otherwise. Never taken from a header as sent. */
  readonly userId: string | undefined;
  /** From the JWT `scope` (space-separated) or `scp` (array), or the API key's configured scopes. */
  readonly scopes: readonly string[];
  /** The configured name of a known API key. */
  readonly apiKeyName: string | undefined;
  /** sha256 (hex) of that API key; the key itself is never kept. */
  readonly apiKeyHash: string | undefined;
  /** Anonymous session, used by subgraphs for read-your-writes; undefined when absent. */
  readonly sessionId: string | undefined;
  /** Correlates logs across the gateway and subgraphs. */
  readonly requestId: string;
  /** Address of the connected client (IPv4-mapped IPv6 shown as IPv4); undefined if the socket is gone. */
  readonly clientIp: string | undefined;
}

export { API_KEY_HEADER, REQUEST_ID_HEADER, SESSION_ID_HEADER };

/** A client's request id is reused only if it is short and plain. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The first value of a request header, undefined when absent or empty. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

/** The sha256 (hex) by which an API key is configured (`API_KEYS`) and known. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/** What every principal carries whoever the caller is: request id, session, client address. */
export function requestFacts(req: IncomingMessage): Pick<Principal, 'requestId' | 'sessionId' | 'clientIp'> {
  const address = req.socket.remoteAddress;
  const clientRequestId = header(req, REQUEST_ID_HEADER);
  const session = header(req, SESSION_ID_HEADER);
  return {
    requestId: clientRequestId !== undefined && SAFE_REQUEST_ID.test(clientRequestId) ? clientRequestId : randomUUID(),
    sessionId: session !== undefined && SAFE_REQUEST_ID.test(session) ? session : undefined,
    clientIp: address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address,
  };
}

/** An anonymous principal of a request (no token, no API key). */
export function anonymousPrincipal(req: IncomingMessage): Principal {
  return Object.freeze({
    kind: 'anonymous',
    userId: undefined,
    scopes: [],
    apiKeyName: undefined,
    apiKeyHash: undefined,
    ...requestFacts(req),
  });
}

/**
 * Who a request is accounted to by rate limits and cost budgets: the
 * verified user, else the known API key (by name), else the client IP.
 * Formatted `user:<id>`, `apikey:<name>`, `ip:<address>`; `ip:unknown` if
 * even the address is gone. Nothing a client can vary freely changes it:
 * tokens are verified and unknown API keys are refused.
 */
export function clientIdentity(principal: Principal): string {
  if (principal.userId !== undefined) return `user:${principal.userId}`;
  if (principal.apiKeyName !== undefined) return `apikey:${principal.apiKeyName}`;
  return `ip:${principal.clientIp ?? 'unknown'}`;
}
