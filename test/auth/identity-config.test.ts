import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError } from '@commerce/common';
import { loadGatewayConfig } from '@commerce/gateway';
import { loadSubgraphConfig } from '@commerce/kit';
import { apiKey, TEST_AUTH_KEYS } from '../helpers/tokens';

const SHARDS = { DATABASE_SHARDS: 'postgres://u@db.invalid:5432/a' };

describe('identity configuration', () => {
  it('reads API_KEYS (inline JSON) into names, scopes and budgets that join the cost overrides', () => {
    const partner = apiKey('partner', { scopes: ['products:write'], budget: '500000/100' });
    const config = loadGatewayConfig({ API_KEYS: JSON.stringify([partner.entry]) });
    assert.deepEqual(config.auth.apiKeys.get(partner.entry.sha256 as string), {
      name: 'partner',
      scopes: ['products:write'],
      budget: { capacity: 500_000, refillPerSecond: 100 },
    });
    assert.deepEqual(config.cost.overrides.get('apikey:partner'), { capacity: 500_000, refillPerSecond: 100 });
  });

  const refused: Array<[Record<string, string>, RegExp]> = [
    [{ JWT_SECRET: 'short' }, /JWT_SECRET must be at least 32 characters/],
    [{ JWT_JWKS_URL: 'not a url' }, /JWT_JWKS_URL/],
    [{ NODE_ENV: 'production', JWT_JWKS_URL: 'https://idp.example/jwks.json' }, /JWT_ISSUER must be set/],
    [{ API_KEYS: '{"name":"x"}' }, /API_KEYS must be a JSON array/],
    [{ API_KEYS: '[{"name":"x","sha256":"abc"}]' }, /sha256 must be the 64 hex digits/],
    [{ API_KEYS: '/nonexistent/keys.json' }, /API_KEYS must be a JSON array or the path of a file/],
    [{ API_KEYS: `[{"name":"x","sha256":"${'a'.repeat(64)}","budget":"lots"}]` }, /budget must look like/],
    [
      { INTERNAL_IDENTITY_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nnot a key\\n-----END PRIVATE KEY-----' },
      /INTERNAL_IDENTITY_PRIVATE_KEY is not a valid PEM key/,
    ],
    [
      {
        INTERNAL_IDENTITY_PRIVATE_KEY: generateKeyPairSync('ec', {
          namedCurve: 'P-256',
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
          publicKeyEncoding: { type: 'spki', format: 'pem' },
        }).privateKey,
      },
      /INTERNAL_IDENTITY_PRIVATE_KEY must be an Ed25519 key/,
    ],
  ];
  for (const [env, message] of refused) {
    it(`the gateway refuses ${Object.keys(env).join(', ')}=${JSON.stringify(Object.values(env).at(-1)).slice(0, 40)}…`, () => {
      assert.throws(
        () => loadGatewayConfig(env),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
      );
    });
  }

  it('a subgraph does not start without INTERNAL_IDENTITY_PUBLIC_KEY, and reads it as PEM with \\n escapes', () => {
    assert.throws(() => loadSubgraphConfig(SHARDS, 0), /INTERNAL_IDENTITY_PUBLIC_KEY is not set/);
    const escaped = TEST_AUTH_KEYS.internalPublicKey.trim().replace(/\n/g, '\\n');
    const config = loadSubgraphConfig({ ...SHARDS, INTERNAL_IDENTITY_PUBLIC_KEY: escaped }, 0);
    assert.equal(config.internalPublicKey.asymmetricKeyType, 'ed25519');
  });
});
