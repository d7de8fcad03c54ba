import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mintToken } from '../../gateway/src/features/identity/dev-tokens';

/** Development (and test) keys: the client-token secret and the internal identity key pair. */
export interface DevAuthKeys {
  /** `JWT_SECRET`: HS256 secret the gateway verifies client tokens with (and `npm run token` signs with). */
  readonly jwtSecret: string;
  /** `INTERNAL_IDENTITY_PRIVATE_KEY` for the gateway: a PEM text or the path of one. */
  readonly internalPrivateKey: string;
  /** `INTERNAL_IDENTITY_PUBLIC_KEY` for the subgraphs: a PEM text or the path of one. */
  readonly internalPublicKey: string;
}

/** The `iss` and `aud` of development tokens: the gateway's defaults (JWT_ISSUER, JWT_AUDIENCE). */
export const DEV_ISSUER = 'commerce';
export const DEV_AUDIENCE = 'commerce-api';

/** A fresh Ed25519 key pair for the internal identity, as PEM texts. */
export function generateInternalKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}

/** Fresh keys held in memory (tests, the in-process platform). */
export function generateDevAuthKeys(): DevAuthKeys {
  const pair = generateInternalKeyPair();
  return {
    jwtSecret: randomBytes(32).toString('hex'),
    internalPrivateKey: pair.privateKey,
    internalPublicKey: pair.publicKey,
  };
}

/** Where `npm start` keeps its development keys: `<DATA_DIR>/auth`. */
export function devAuthDir(dataDir: string): string {
  return join(dataDir, 'auth');
}

/**
 * The development keys of `npm start` in `<dataDir>/auth` (created on first
 * use, mode 0600): `jwt-secret`, `internal-identity.key` and `.pub`. The
 * key files are passed by path; the secret by value.
 */
export async function ensureDevAuthKeys(dataDir: string): Promise<DevAuthKeys> {
  const dir = devAuthDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secretPath = join(dir, 'jwt-secret');
  const privatePath = join(dir, 'internal-identity.key');
  const publicPath = join(dir, 'internal-identity.pub');
  if (!existsSync(secretPath)) await writeFile(secretPath, randomBytes(32).toString('hex'), { mode: 0o600 });
  if (!existsSync(privatePath) || !existsSync(publicPath)) {
    const pair = generateInternalKeyPair();
    await writeFile(privatePath, pair.privateKey, { mode: 0o600 });
    await writeFile(publicPath, pair.publicKey, { mode: 0o644 });
  }
  return {
    jwtSecret: (await readFile(secretPath, 'utf8')).trim(),
    internalPrivateKey: privatePath,
    internalPublicKey: publicPath,
  };
}

/** The environment both ends need: the gateway reads the first two and the private key, subgraphs the public key. */
export function devAuthEnv(keys: DevAuthKeys): Record<string, string> {
  return {
    JWT_SECRET: keys.jwtSecret,
    INTERNAL_IDENTITY_PRIVATE_KEY: keys.internalPrivateKey,
    INTERNAL_IDENTITY_PUBLIC_KEY: keys.internalPublicKey,
  };
}

/** Options of {@link mintDevToken}. */
export interface MintOptions {
  /** HS256 secret (`JWT_SECRET`). */
  secret: string;
  /** The user (`usr_…`). */
  user: string;
  /** Scopes, written space-separated in `scope`. Default none. */
  scopes?: readonly string[];
  /** Lifetime in seconds; negative for an already expired token. Default 3600. */
  expiresInSeconds?: number;
  /** Default {@link DEV_ISSUER}. */
  issuer?: string;
  /** Default {@link DEV_AUDIENCE}. */
  audience?: string;
}

/** An HS256 client token as the gateway accepts it with `JWT_SECRET` (the development issuer and audience by default). */
export function mintDevToken(options: MintOptions): Promise<string> {
  return mintToken({ ...options, issuer: options.issuer ?? DEV_ISSUER, audience: options.audience ?? DEV_AUDIENCE });
}
