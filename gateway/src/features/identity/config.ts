import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { ConfigError, intVar, internalPrivateKeyVar, optionalVar, stringVar, urlVar, type Env } from '@commerce/common';

/** A configured API key, known by the sha256 of its value (the value itself is never configured). */
export interface ApiKey {
  /** The name budgets, overrides and logs know it by (`apikey:<name>`). */
  readonly name: string;
  readonly scopes: readonly string[];
  /** Its own cost budget (`capacity/refillPerSecond`), if any. */
  readonly budget?: { readonly capacity: number; readonly refillPerSecond: number };
}

/** Client authentication and the internal identity (README "Authentication"). */
export interface AuthConfig {
  /** `JWT_SECRET`: HS256 shared secret (at least 32 characters). Unset: HS256 tokens are refused. */
  readonly jwtSecret: Uint8Array | undefined;
  /** `JWT_JWKS_URL`: where RS256/ES256/EdDSA verification keys are published. Unset: such tokens are refused. */
  readonly jwksUrl: string | undefined;
  /** `JWT_ISSUER`: the required `iss`. Default `commerce`. */
  readonly issuer: string;
  /** `JWT_AUDIENCE`: the required `aud`. Default `commerce-api`. */
  readonly audience: string;
  /** `JWT_CLOCK_TOLERANCE_SECONDS`: leeway on `exp`/`nbf`/`iat`. Default 5. */
  readonly clockToleranceSeconds: number;
  /** `JWT_JWKS_COOLDOWN_MS`: the JWKS is fetched again on an unknown `kid` at most this often. Default 30000. */
  readonly jwksCooldownMs: number;
  /** `JWT_JWKS_CACHE_MS`: a fetched JWKS is trusted this long before it is fetched again. Default 600000. */
  readonly jwksCacheMs: number;
  /** `API_KEYS`: sha256 (hex) of a key → its name, scopes and budget. Default none (every API key refused). */
  readonly apiKeys: ReadonlyMap<string, ApiKey>;
  /** `INTERNAL_IDENTITY_PRIVATE_KEY`: Ed25519 key signing the identity sent to subgraphs. Unset: none is sent. */
  readonly internalPrivateKey: KeyObject | undefined;
  /** `INTERNAL_IDENTITY_TTL_SECONDS`: lifetime of an internal token. Default 30. */
  readonly internalTtlSeconds: number;
}

const BUDGET = /^(\d+)\/([0-9.]+)$/;
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

function scopesOf(where: string, raw: unknown): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || !raw.every((s) => typeof s === 'string' && SCOPE.test(s)))
    throw new ConfigError(`${where}: scopes must be an array of scope names`);
  return raw as string[];
}

/**
 * `API_KEYS`: a JSON array, or the path of a file holding one, of
 * `{"name": "partner-a", "sha256": "<hex of the key>", "scopes": ["products:write"], "budget": "500000/10000"}`.
 */
export function parseApiKeys(raw: string | undefined): ReadonlyMap<string, ApiKey> {
  const keys = new Map<string, ApiKey>();
  if (raw === undefined) return keys;
  let text = raw;
  if (!raw.trimStart().startsWith('[')) {
    try {
      text = readFileSync(raw, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `API_KEYS must be a JSON array or the path of a file holding one: ${(error as Error).message}`,
      );
    }
  }
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`API_KEYS is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(entries)) throw new ConfigError('API_KEYS must be a JSON array of {name, sha256, scopes, budget}');
  const names = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    const where = `API_KEYS[${index}]`;
    const { name, sha256, scopes, budget } = (entry ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name))
      throw new ConfigError(`${where}: name must be 1-64 letters, digits, dots, dashes or underscores`);
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))
      throw new ConfigError(`${where} (${name}): sha256 must be the 64 hex digits of the key's SHA-256`);
    if (names.has(name) || keys.has(sha256)) throw new ConfigError(`${where}: ${name} is configured twice`);
    names.add(name);
    let parsedBudget: ApiKey['budget'];
    if (budget !== undefined) {
      const match = typeof budget === 'string' ? BUDGET.exec(budget) : null;
      const capacity = Number(match?.[1]);
      const refillPerSecond = Number(match?.[2]);
      if (!match || capacity <= 0 || !(refillPerSecond > 0))
        throw new ConfigError(
          `${where} (${name}): budget must look like <capacity>/<refillPerSecond>, e.g. 500000/10000`,
        );
      parsedBudget = Object.freeze({ capacity, refillPerSecond });
    }
    keys.set(sha256, Object.freeze({ name, scopes: Object.freeze(scopesOf(where, scopes)), budget: parsedBudget }));
  }
  return keys;
}

/** Reads the authentication configuration; throws ConfigError naming the variable on a bad value. */
export function loadAuthConfig(env: Env, production: boolean): AuthConfig {
  const secret = optionalVar(env, 'JWT_SECRET');
  if (secret !== undefined && secret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters');
  const jwksUrl = optionalVar(env, 'JWT_JWKS_URL') === undefined ? undefined : urlVar(env, 'JWT_JWKS_URL');
  if (production && (secret !== undefined || jwksUrl !== undefined)) {
    for (const name of ['JWT_ISSUER', 'JWT_AUDIENCE'])
      if (optionalVar(env, name) === undefined)
        throw new ConfigError(`${name} must be set when NODE_ENV=production and JWT verification is configured`);
  }
  return Object.freeze({
    jwtSecret: secret === undefined ? undefined : new TextEncoder().encode(secret),
    jwksUrl,
    issuer: stringVar(env, 'JWT_ISSUER', 'commerce'),
    audience: stringVar(env, 'JWT_AUDIENCE', 'commerce-api'),
    clockToleranceSeconds: intVar(env, 'JWT_CLOCK_TOLERANCE_SECONDS', 5, { min: 0, max: 300 }),
    jwksCooldownMs: intVar(env, 'JWT_JWKS_COOLDOWN_MS', 30_000, { min: 0, max: 3_600_000 }),
    jwksCacheMs: intVar(env, 'JWT_JWKS_CACHE_MS', 600_000, { min: 1000, max: 86_400_000 }),
    apiKeys: parseApiKeys(optionalVar(env, 'API_KEYS')),
    internalPrivateKey: internalPrivateKeyVar(env),
    internalTtlSeconds: intVar(env, 'INTERNAL_IDENTITY_TTL_SECONDS', 30, { min: 1, max: 300 }),
  });
}
