import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jwtVerify } from 'jose';
import { ConfigError, optionalVar, type Env } from './config';

/**
 * The identity the gateway hands each subgraph (README "Authentication →
 * Internal identity"): per request and subgraph, a short-lived JWT signed
 * with the gateway's Ed25519 private key, carrying the verified subject, its
 * scopes and the anonymous session (the request id travels in its own
 * header, for logs). Subgraphs hold only the
 * public key, so none of them can mint an identity.
 */

/** The request header that carries the internal token from the gateway to a subgraph. */
export const INTERNAL_IDENTITY_HEADER = 'x-internal-identity';
/** The `iss` of every internal token. */
export const INTERNAL_ISSUER = 'commerce-gateway';

/** What a subgraph learns from a verified internal token. */
export interface InternalClaims {
  /** The verified user (`usr_…`), absent for anonymous and API-key callers. */
  readonly sub?: string;
  /** The caller's scopes. */
  readonly scopes: readonly string[];
  /** The anonymous read-your-writes session, if any. */
  readonly sessionId?: string;
}

/** A PEM text (`\n` escapes allowed, as env files write them) or the path of a PEM file. */
function pemOf(name: string, raw: string): string {
  if (raw.trimStart().startsWith('-----BEGIN')) return raw.replace(/\\n/g, '\n');
  try {
    return readFileSync(raw, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `${name} must be a PEM key or the path of one; cannot read ${JSON.stringify(raw)}: ${(error as Error).message}`,
    );
  }
}

function ed25519(name: string, load: () => KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = load();
  } catch (error) {
    throw new ConfigError(`${name} is not a valid PEM key: ${(error as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(`${name} must be an Ed25519 key, got ${key.asymmetricKeyType ?? 'a symmetric key'}`);
  }
  return key;
}

/** `INTERNAL_IDENTITY_PRIVATE_KEY` (gateway): the Ed25519 private key, PEM or a file path; undefined when unset. */
export function internalPrivateKeyVar(env: Env): KeyObject | undefined {
  const name = 'INTERNAL_IDENTITY_PRIVATE_KEY';
  const raw = optionalVar(env, name);
  return raw === undefined ? undefined : ed25519(name, () => createPrivateKey(pemOf(name, raw)));
}

/** `INTERNAL_IDENTITY_PUBLIC_KEY` (subgraphs): the Ed25519 public key, PEM or a file path; required. */
export function internalPublicKeyVar(env: Env): KeyObject {
  const name = 'INTERNAL_IDENTITY_PUBLIC_KEY';
  const raw = optionalVar(env, name);
  if (raw === undefined) {
    throw new ConfigError(
      `${name} is not set: subgraphs accept only calls the gateway signed (npm start generates the key pair; deployments set it, README "Authentication")`,
    );
  }
  return ed25519(name, () => createPublicKey(pemOf(name, raw)));
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT' })).toString('base64url');

/**
 * Signs internal tokens. Synchronous on purpose (node:crypto's Ed25519 sign,
 * no thread-pool hop): it runs on every subgraph fetch. The output is a
 * standard compact JWS (`alg: EdDSA`), verified with jose by the subgraphs.
 */
export function createInternalSigner(privateKey: KeyObject, ttlSeconds: number) {
  return (claims: InternalClaims, audience: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: INTERNAL_ISSUER,
      aud: audience,
      iat: now,
      exp: now + ttlSeconds,
      scope: claims.scopes.join(' '),
    };
    if (claims.sub !== undefined) payload.sub = claims.sub;
    if (claims.sessionId !== undefined) payload.sid = claims.sessionId;
    const input = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${input}.${sign(null, Buffer.from(input), privateKey).toString('base64url')}`;
  };
}

/** Verified tokens remembered per subgraph process (the gateway reuses a token for a second per caller). */
const REMEMBERED_TOKENS = 10_000;

/**
 * Verifies internal tokens meant for `audience` (a subgraph's name); rejects
 * with jose's error otherwise. A token verified once is remembered until its
 * own `exp` (the gateway sends the same token for a second per caller and
 * subgraph), so a repeat costs a map lookup instead of a signature check.
 */
export function createInternalVerifier(publicKey: KeyObject, audience: string) {
  const remembered = new Map<string, { claims: InternalClaims; expiresAt: number }>();
  const verify = createUncachedVerifier(publicKey, audience);
  return async (token: string): Promise<InternalClaims> => {
    const known = remembered.get(token);
    if (known && known.expiresAt > Date.now()) return known.claims;
    const { claims, exp } = await verify(token);
    if (remembered.size >= REMEMBERED_TOKENS) remembered.clear();
    remembered.set(token, { claims, expiresAt: exp * 1000 });
    return claims;
  };
}

function createUncachedVerifier(publicKey: KeyObject, audience: string) {
  return async (token: string): Promise<{ claims: InternalClaims; exp: number }> => {
    const { payload } = await jwtVerify(token, publicKey, {
      algorithms: ['EdDSA'],
      issuer: INTERNAL_ISSUER,
      audience,
      clockTolerance: 5,
      requiredClaims: ['exp', 'iat'],
    });
    const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
    const claims = {
      sub: text(payload.sub),
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
      sessionId: text(payload.sid),
    };
    return { claims, exp: payload.exp! };
  };
}
