import { ConfigError, intVar, optionalVar, type Env } from '@commerce/common';

/** Which browser origins may call the gateway (`CORS_*`). */
export interface CorsConfig {
  /** `CORS_ORIGINS`: exact origins (`https://shop.example.com`), comma-separated. Default none: CORS off. */
  readonly origins: readonly string[];
  /** `CORS_MAX_AGE_SECONDS`: how long a browser may reuse a preflight answer. Default 600. */
  readonly maxAgeSeconds: number;
}

/** An origin as browsers send it: scheme, host and port only, lower case, no trailing slash. */
function origin(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`CORS_ORIGINS must list origins like https://shop.example.com, got ${JSON.stringify(raw)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== raw.replace(/\/$/, '').toLowerCase())
    throw new ConfigError(
      `CORS_ORIGINS must list exact origins (scheme://host[:port], no path, no wildcard), got ${JSON.stringify(raw)}`,
    );
  return url.origin;
}

export function loadCorsConfig(env: Env): CorsConfig {
  const origins = (optionalVar(env, 'CORS_ORIGINS') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map(origin);
  return Object.freeze({
    origins: Object.freeze([...new Set(origins)]),
    maxAgeSeconds: intVar(env, 'CORS_MAX_AGE_SECONDS', 600, { min: 0, max: 86_400 }),
  });
}
