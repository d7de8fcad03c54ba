/**
 * npx tsx bench/identity-cost.ts [--count 20000]
 *
 * CPU cost of identity per request, measured with the code the services run
 * (README "Authentication"): the gateway verifying a client HS256 JWT (jose),
 * signing an internal identity (Ed25519, node:crypto) for one subgraph fetch,
 * and a subgraph verifying it (jose). CPU time of this process per operation
 * (process.cpuUsage), so a busy shared machine skews it far less than req/s.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createInternalSigner, createInternalVerifier } from '@commerce/common';
import { loadAuthConfig } from '../gateway/src/features/identity/config';
import { createTokenVerifier } from '../gateway/src/features/identity/jwt';
import { devAuthEnv, generateDevAuthKeys, mintDevToken } from '../scripts/lib/dev-auth';

const { values } = parseArgs({ options: { count: { type: 'string', default: '20000' } } });
const count = Number(values.count);

async function measure(name: string, run: () => unknown): Promise<{ name: string; microseconds: number }> {
  for (let i = 0; i < 1000; i++) await run();
  const started = process.cpuUsage();
  for (let i = 0; i < count; i++) await run();
  const used = process.cpuUsage(started);
  return { name, microseconds: (used.user + used.system) / count };
}

async function main(): Promise<void> {
  const keys = generateDevAuthKeys();
  const config = loadAuthConfig(devAuthEnv(keys), false);
  const verifyClient = createTokenVerifier(config);
  const clientToken = await mintDevToken({ secret: keys.jwtSecret, user: 'usr_4198501793793', scopes: ['admin'] });
  const sign = createInternalSigner(createPrivateKey(keys.internalPrivateKey), 30);
  const verifyInternal = createInternalVerifier(createPublicKey(keys.internalPublicKey), 'users');
  const claims = { sub: 'usr_4198501793793', scopes: ['admin'], sessionId: undefined };
  const internal = sign(claims, 'users');
  // Distinct tokens (distinct subjects), signed beforehand: each is verified once.
  const fresh = Array.from({ length: count + 1000 }, (_, i) => sign({ ...claims, sub: `usr_${i + 1}` }, 'users'));
  let next = 0;
  const rows = [
    await measure('gateway: verify the client JWT (HS256, jose), per request', () => verifyClient(clientToken)),
    await measure('gateway: sign an internal identity (Ed25519), per (caller, subgraph) and second', () =>
      sign(claims, 'users'),
    ),
    await measure('subgraph: verify an internal identity seen for the first time (EdDSA, jose), per call', () =>
      verifyInternal(fresh[next++]!),
    ),
    await measure(
      'subgraph: verify a repeat of a verified internal identity (remembered until its exp), per call',
      () => verifyInternal(internal),
    ),
  ];
  console.log(`| operation | CPU µs per operation (${count} runs) |\n|---|---:|`);
  for (const row of rows) console.log(`| ${row.name} | ${row.microseconds.toFixed(1)} |`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
