import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { AuthConfig } from './config';

/** Why a token was refused: the reason is told to the client (never the token itself). */
export class InvalidToken extends Error {
  override name = 'InvalidToken';
}

/** What a verified client token says. */
export interface VerifiedToken {
  /** The user (`usr_…`). */
  readonly sub: string;
  readonly scopes: readonly string[];
}

/** Asymmetric algorithms accepted from the JWKS; HS256 only with `JWT_SECRET`; `none` never. */
const JWKS_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const USER_SUBJECT = /^usr_[A-Za-z0-9]{1,64}$/;

function scopesOf(payload: JWTPayload): string[] {
  if (typeof payload.scope === 'string') return payload.scope.split(' ').filter(Boolean);
  if (Array.isArray(payload.scp)) return payload.scp.filter((s): s is string => typeof s === 'string' && s !== '');
  return [];
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not accepted`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token was signed with a key the key set does not hold';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token algorithm is not accepted';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return 'the key set to verify the token could not be read';
  return 'the token is malformed';
}

/**
 * Verifies client JWTs with jose on every request (nothing is remembered
 * between requests, so an expired token is refused the second it expires):
 * HS256 with `JWT_SECRET`, RS256/ES256/EdDSA with the keys of `JWT_JWKS_URL`
 * (cached; fetched again on an unknown `kid` at most once per cool-down),
 * issuer, audience and expiry with a small clock tolerance.
 */
export function createTokenVerifier(config: AuthConfig): (token: string) => Promise<VerifiedToken> {
  const jwks = config.jwksUrl
    ? createRemoteJWKSet(new URL(config.jwksUrl), {
        cooldownDuration: config.jwksCooldownMs,
        cacheMaxAge: config.jwksCacheMs,
        timeoutDuration: 5000,
      })
    : undefined;
  const options = {
    issuer: config.issuer,
    audience: config.audience,
    clockTolerance: config.clockToleranceSeconds,
    requiredClaims: ['exp', 'sub'],
  };
  return async (token) => {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new InvalidToken('the token is not a JWT');
    }
    let payload: JWTPayload;
    try {
      if (alg === 'HS256' && config.jwtSecret) {
        ({ payload } = await jwtVerify(token, config.jwtSecret, { ...options, algorithms: ['HS256'] }));
      } else if (alg !== undefined && JWKS_ALGORITHMS.includes(alg) && jwks) {
        ({ payload } = await jwtVerify(token, jwks, { ...options, algorithms: JWKS_ALGORITHMS }));
      } else {
        throw new InvalidToken(`tokens signed with ${JSON.stringify(alg ?? 'no algorithm')} are not accepted here`);
      }
    } catch (error) {
      if (error instanceof InvalidToken) throw error;
      throw new InvalidToken(reasonOf(error));
    }
    if (typeof payload.sub !== 'string' || !USER_SUBJECT.test(payload.sub))
      throw new InvalidToken('the token subject is not a user ID (usr_…)');
    return { sub: payload.sub, scopes: scopesOf(payload) };
  };
}
