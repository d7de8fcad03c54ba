/**
 * Tokens for tests (README "Authentication"; the contract in
 * /work/brief/SECURITY-CONTRACT.md): one set of development keys per test
 * process, configured for both ends by startTestPlatform, startGatewayProcess
 * and the gateway test helpers, so a test just sends
 * `authHeader(await userToken(userId))`.
 */
import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { createInternalSigner, type InternalClaims } from '@commerce/common';
import { encodeId } from '@commerce/kit';
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  devAuthEnv,
  generateDevAuthKeys,
  generateInternalKeyPair,
  mintDevToken,
} from '../../scripts/lib/dev-auth';

/** This test process's keys: the HS256 client secret and the internal identity key pair (PEM texts). */
export const TEST_AUTH_KEYS = generateDevAuthKeys();

/**
 * `JWT_SECRET`, `JWT_ISSUER`, `JWT_AUDIENCE` (set, so that production gateways accept them too),
 * `INTERNAL_IDENTITY_PRIVATE_KEY`, `INTERNAL_IDENTITY_PUBLIC_KEY` for gateways and subgraphs.
 */
export const TEST_AUTH_ENV: Readonly<Record<string, string>> = Object.freeze({
  ...devAuthEnv(TEST_AUTH_KEYS),
  JWT_ISSUER: DEV_ISSUER,
  JWT_AUDIENCE: DEV_AUDIENCE,
});

/** Options of {@link userToken}. */
export interface TokenOptions {
  scopes?: readonly string[];
  /** Default 3600; negative for an expired token. */
  expiresInSeconds?: number;
  audience?: string;
  issuer?: string;
  /** Another HS256 secret (a token the gateway must refuse). */
  secret?: string;
}

/** A valid HS256 client token for `userId` (`usr_…`). */
export function userToken(userId: string, options: TokenOptions = {}): Promise<string> {
  return mintDevToken({ secret: TEST_AUTH_KEYS.jwtSecret, user: userId, ...options });
}

/** A client token with the `admin` scope. */
export function adminToken(userId: string, scopes: readonly string[] = ['admin']): Promise<string> {
  return userToken(userId, { scopes });
}

/** `{ authorization: 'Bearer <token>' }`. */
export function authHeader(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The headers of a request as `userId` (a fresh valid token). */
export async function asUser(userId: string, scopes: readonly string[] = []): Promise<Record<string, string>> {
  return authHeader(await userToken(userId, { scopes }));
}

/** Tokens the gateway must refuse with 401 UNAUTHENTICATED and `WWW-Authenticate: Bearer error="invalid_token"`. */
export const hostileTokens = {
  /** Expired a minute ago (beyond the clock tolerance). */
  expired: (userId: string) => userToken(userId, { expiresInSeconds: -60 }),
  /** Signed with a secret the gateway does not know. */
  otherKey: (userId: string) => userToken(userId, { secret: 'another-secret-of-at-least-32-characters!' }),
  /** `alg: none`, unsigned. */
  algNone: (userId: string) => {
    const now = Math.floor(Date.now() / 1000);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = { sub: userId, iss: DEV_ISSUER, aud: DEV_AUDIENCE, iat: now, exp: now + 3600, scope: 'admin' };
    return Promise.resolve(`${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`);
  },
  /** Meant for another API. */
  wrongAudience: (userId: string) => userToken(userId, { audience: 'another-api' }),
  /** Issued by someone else. */
  wrongIssuer: (userId: string) => userToken(userId, { issuer: 'someone-else' }),
  /** Signed by an RS256 key no JWKS of the gateway holds. */
  unknownRsaKey: (userId: string) => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'unknown' })
      .setSubject(userId)
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setExpirationTime('1h')
      .sign(privateKey);
  },
} as const;

/** An API key for `API_KEYS`: the key a client sends and the configuration entry (its sha256). */
export function apiKey(
  name: string,
  options: { scopes?: string[]; budget?: string } = {},
): { key: string; entry: Record<string, unknown> } {
  const key = `test-${name}-${createHash('sha256').update(name).digest('hex').slice(0, 24)}`;
  return { key, entry: { name, sha256: createHash('sha256').update(key).digest('hex'), ...options } };
}

/** `API_KEYS` for the given keys' entries. */
export function apiKeysEnv(...keys: Array<{ entry: Record<string, unknown> }>): Record<string, string> {
  return { API_KEYS: JSON.stringify(keys.map((k) => k.entry)) };
}

/**
 * An internal token for a direct call to a subgraph, as the gateway signs it
 * (`x-internal-identity`); by default with this process's key. `privateKey`
 * (PEM) forges one with another key; a negative `ttlSeconds` makes it expired.
 */
export function internalToken(
  subgraph: string,
  claims: Partial<InternalClaims> = {},
  options: { privateKey?: string; ttlSeconds?: number } = {},
): string {
  const key = createPrivateKey(options.privateKey ?? TEST_AUTH_KEYS.internalPrivateKey);
  return createInternalSigner(key, options.ttlSeconds ?? 30)({ scopes: [], ...claims }, subgraph);
}

/** A PEM private key the subgraphs do not trust. */
export function otherInternalKey(): string {
  return generateInternalKeyPair().privateKey;
}

/** A user ID that signs in as the administrator in tests (any valid user ID works; this one is user 1). */
export const ADMIN_USER_ID = encodeId('User', 1n);

/** The headers of an administrator (`admin` and `products:write`): e.g. to list users while setting a test up. */
export function adminHeaders(scopes: readonly string[] = ['admin', 'products:write']): Promise<Record<string, string>> {
  return asUser(ADMIN_USER_ID, scopes);
}
