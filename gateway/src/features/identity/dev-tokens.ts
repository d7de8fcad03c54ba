import { SignJWT } from 'jose';

/** Options of {@link mintToken}. */
export interface MintTokenOptions {
  /** The HS256 secret (`JWT_SECRET`). */
  secret: string | Uint8Array;
  /** The user (`usr_…`), the token's `sub`. */
  user: string;
  /** Written space-separated in `scope`. Default none. */
  scopes?: readonly string[];
  /** Lifetime in seconds; negative for an already expired token. Default 3600. */
  expiresInSeconds?: number;
  issuer: string;
  audience: string;
}

/**
 * A development client token (HS256) as the gateway accepts it with
 * `JWT_SECRET`: for `npm start`, `npm run token`, the sandbox's "sign in as"
 * and tests. Production tokens come from an identity provider.
 */
export function mintToken(options: MintTokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const secret = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
  return new SignJWT({ scope: (options.scopes ?? []).join(' ') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.user)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresInSeconds ?? 3600))
    .sign(secret);
}
