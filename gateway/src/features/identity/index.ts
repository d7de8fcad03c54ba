import type { IncomingMessage } from 'node:http';
import { HeaderMap } from '@apollo/server';
import { LRUCache } from 'lru-cache';
import {
  CommerceError,
  INTERNAL_IDENTITY_HEADER,
  REQUEST_ID_HEADER,
  USER_ID_HEADER,
  createInternalSigner,
} from '@commerce/common';
import { anonymousPrincipal, hashApiKey, header, API_KEY_HEADER, type Principal } from '../../principal';
import type { GatewayFeature } from '../feature';
import type { AuthConfig } from './config';
import { createTokenVerifier, InvalidToken } from './jwt';

export { loadAuthConfig, parseApiKeys, type ApiKey, type AuthConfig } from './config';

/** Establishes who the caller is; the pipeline asks it first, before anything may answer. */
export interface Identity {
  /** The verified caller; rejects with UNAUTHENTICATED (401, `WWW-Authenticate`) for a bad token or API key. */
  identify(req: IncomingMessage): Promise<Principal>;
}

/** Longest accepted `Authorization` and `x-api-key` values. */
const MAX_CREDENTIAL_LENGTH = 8192;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
/** An internal token is reused for the same caller and subgraph this long (it lives INTERNAL_IDENTITY_TTL_SECONDS). */
const INTERNAL_REUSE_MS = 1000;

/** How to get a token, in every refusal. */
const HOW_TO_SIGN_IN =
  'send Authorization: Bearer <JWT> (in development, `npm run token -- --user usr_…` prints one; npm start prints two)';

/** A 401 UNAUTHENTICATED with the RFC 6750 challenge. */
export function unauthenticated(message: string, error: 'invalid_token' | 'invalid_request'): CommerceError {
  const refusal = new CommerceError('UNAUTHENTICATED', message);
  const challenge = `Bearer realm="commerce", error="${error}"`;
  (refusal.extensions.http as { headers?: HeaderMap }).headers = new HeaderMap([['www-authenticate', challenge]]);
  return refusal;
}

/**
 * Client identity (README "Authentication"): a verified JWT bearer token, a
 * configured API key, or anonymous. Runs on every request before anything
 * may answer, cache hits included; `x-user-id` is refused. Forwards the
 * caller to every subgraph fetch as an internal token signed for that
 * subgraph (`x-internal-identity`), which the subgraphs verify.
 */
export function useIdentity(config: AuthConfig): GatewayFeature & Identity {
  const verify = createTokenVerifier(config);
  const sign = config.internalPrivateKey
    ? createInternalSigner(config.internalPrivateKey, config.internalTtlSeconds)
    : undefined;
  const signed = new LRUCache<string, string>({ max: 10_000, ttl: INTERNAL_REUSE_MS });

  async function identify(req: IncomingMessage): Promise<Principal> {
    if (req.headers[USER_ID_HEADER] !== undefined)
      throw unauthenticated(`The ${USER_ID_HEADER} header is not an identity: ${HOW_TO_SIGN_IN}`, 'invalid_request');
    const base = anonymousPrincipal(req);
    const authorization = header(req, 'authorization');
    const apiKey = header(req, API_KEY_HEADER);
    let principal: Principal = base;
    if (apiKey !== undefined) {
      const hash = apiKey.length <= MAX_CREDENTIAL_LENGTH ? hashApiKey(apiKey) : '';
      const known = config.apiKeys.get(hash);
      if (!known) throw unauthenticated(`Unknown API key (${API_KEY_HEADER})`, 'invalid_token');
      principal = { ...base, kind: 'apiKey', scopes: known.scopes, apiKeyName: known.name, apiKeyHash: hash };
    }
    if (authorization !== undefined) {
      const match = authorization.length <= MAX_CREDENTIAL_LENGTH ? BEARER.exec(authorization) : null;
      if (!match)
        throw unauthenticated(`The Authorization header must be "Bearer <JWT>": ${HOW_TO_SIGN_IN}`, 'invalid_request');
      try {
        const token = await verify(match[1]!);
        principal = { ...principal, kind: 'user', userId: token.sub, scopes: token.scopes };
      } catch (error) {
        if (!(error instanceof InvalidToken)) throw error;
        throw unauthenticated(`Invalid bearer token: ${error.message}; ${HOW_TO_SIGN_IN}`, 'invalid_token');
      }
    }
    return principal === base ? base : Object.freeze(principal);
  }

  function internalToken(principal: Principal, subgraph: string): string {
    const key = `${subgraph}\0${principal.userId ?? ''}\0${principal.scopes.join(' ')}\0${principal.sessionId ?? ''}`;
    let token = signed.get(key);
    if (token === undefined) {
      token = sign!({ sub: principal.userId, scopes: principal.scopes, sessionId: principal.sessionId }, subgraph);
      signed.set(key, token);
    }
    return token;
  }

  return {
    name: 'identity',
    onCacheHit: true,
    duringWarmup: true,
    identify,
    subgraphHeaders: (context, subgraph) => {
      const { principal } = context;
      const headers: Record<string, string> = { [REQUEST_ID_HEADER]: principal.requestId };
      if (sign) headers[INTERNAL_IDENTITY_HEADER] = internalToken(principal, subgraph);
      return headers;
    },
  };
}
