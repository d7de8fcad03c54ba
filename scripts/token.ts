/**
 * npm run token -- --user usr_… [--scope products:write] [--scope admin] [--ttl 3600]
 *
 * Mints a development client token (HS256) with the secret `npm start` keeps
 * in DATA_DIR/auth (or JWT_SECRET when set), for the gateway's default
 * JWT_ISSUER / JWT_AUDIENCE (or those set). Prints the token only.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringVar } from '@commerce/common';
import { DEV_AUDIENCE, DEV_ISSUER, ensureDevAuthKeys, mintDevToken } from './lib/dev-auth';

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    scope: { type: 'string', multiple: true, default: [] },
    ttl: { type: 'string', default: '3600' },
  },
});

async function main(): Promise<void> {
  const user = values.user;
  if (!user || !/^usr_[A-Za-z0-9]+$/.test(user)) throw new Error('--user usr_… is required (a seeded user ID)');
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) throw new Error(`--ttl must be a number of seconds, got ${values.ttl}`);
  const env = process.env;
  const secret = env.JWT_SECRET || (await ensureDevAuthKeys(resolve(stringVar(env, 'DATA_DIR', '.data')))).jwtSecret;
  const scopes = values.scope.flatMap((s) => s.split(/[ ,]+/)).filter(Boolean);
  console.log(
    await mintDevToken({
      secret,
      user,
      scopes,
      expiresInSeconds: ttl,
      issuer: stringVar(env, 'JWT_ISSUER', DEV_ISSUER),
      audience: stringVar(env, 'JWT_AUDIENCE', DEV_AUDIENCE),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(`[token] ${(error as Error).message}`);
  process.exit(1);
});
