/**
 * Identity end to end (README "Authentication"): client JWTs verified by the
 * real gateway (HS256 and a local JWKS server), API keys and budgets, the
 * internal identity every subgraph port demands, and private cache entries
 * that never cross callers.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { INTERNAL_IDENTITY_HEADER } from '@commerce/common';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process';
import { postGraphQL, postJson, type GraphQLResponse } from '../helpers/graphql';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import {
  adminHeaders,
  apiKey,
  apiKeysEnv,
  asUser,
  authHeader,
  hostileTokens,
  internalToken,
  otherInternalKey,
  TEST_AUTH_KEYS,
  userToken,
} from '../helpers/tokens';
import { waitFor } from '../helpers/wait';

const ME = '{ me { id email } }';
const DEV_CLAIMS = { iss: 'commerce', aud: 'commerce-api' };

function assertUnauthenticated(res: GraphQLResponse, error = 'invalid_token'): void {
  assert.equal(res.status, 401, JSON.stringify(res.body));
  assert.equal(res.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  assert.equal(res.body.data, undefined);
  assert.match(res.headers.get('www-authenticate') ?? '', new RegExp(`^Bearer .*error="${error}"`));
}

describe('identity through the gateway and on the subgraph ports', () => {
  let platform: TestPlatform;
  let userA: string;
  let userB: string;
  const processes: GatewayProcess[] = [];

  before(async () => {
    platform = await startTestPlatform();
    const users = await platform.gql('{ users(first: 2) { edges { node { id } } } }', undefined, await adminHeaders());
    [userA, userB] = users.body.data.users.edges.map((e: { node: { id: string } }) => e.node.id);
  });
  after(async () => {
    for (const process of processes) await process.stop();
    await platform?.stop();
  });

  describe('client tokens (HS256, JWT_SECRET)', () => {
    it('a valid token is the user: me is that user', async () => {
      const res = await platform.gql(ME, undefined, await asUser(userA));
      assert.equal(res.status, 200);
      assert.equal(res.body.data.me.id, userA);
    });

    it('no token is anonymous: me is null, no challenge', async () => {
      const res = await platform.gql(ME);
      assert.equal(res.status, 200);
      assert.equal(res.body.data.me, null);
    });

    for (const [kind, mint] of Object.entries(hostileTokens)) {
      it(`refuses a token that is ${kind} with 401 UNAUTHENTICATED and WWW-Authenticate, calling no subgraph`, async () => {
        const calls = () => platform.metric('http_requests_total', { route: '/graphql' });
        const before = await calls();
        const res = await platform.gql(ME, undefined, authHeader(await mint(userA)));
        assertUnauthenticated(res);
        assert.equal(await calls(), before, 'no subgraph saw the request');
      });
    }

    it('refuses a malformed Authorization header with 401 invalid_request', async () => {
      for (const value of ['Basic dXNlcjpwYXNz', 'Bearer', `Bearer ${'a'.repeat(9000)}`, 'Bearer not a token']) {
        assertUnauthenticated(await platform.gql(ME, undefined, { authorization: value }), 'invalid_request');
      }
      assertUnauthenticated(await platform.gql(ME, undefined, { authorization: 'Bearer a.b.c' }));
    });

    it('refuses x-user-id (no identity any more) with 401 saying how to get a token', async () => {
      const res = await platform.gql(ME, undefined, { 'x-user-id': userA });
      assertUnauthenticated(res, 'invalid_request');
      assert.match(res.body.errors![0]!.message, /Authorization: Bearer <JWT>.*npm run token/);
    });

    it('reads scopes from scope (space-separated) and scp (array) alike', async () => {
      const scp = await new SignJWT({ scp: ['admin'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userB)
        .setIssuer(DEV_CLAIMS.iss)
        .setAudience(DEV_CLAIMS.aud)
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(TEST_AUTH_KEYS.jwtSecret));
      const query = '{ users(first: 1) { edges { node { id } } } }';
      for (const headers of [authHeader(scp), await asUser(userB, ['admin'])]) {
        const res = await platform.gql(query, undefined, headers);
        assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
        assert.equal(res.body.data.users.edges.length, 1);
      }
    });
  });

  describe('the subgraph ports demand the internal identity the gateway signs', () => {
    const QUERIES = {
      _service: '{ _service { sdl } }',
      _entities: 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }',
      plain: '{ __typename }',
    };
    const representations = { users: 'User', products: 'Product', orders: 'Order' } as const;

    for (const subgraph of ['users', 'products', 'orders'] as const) {
      it(`${subgraph}: 401 without a token, with a forged one, an expired one or one for another subgraph; 200 with the gateway's`, async () => {
        const url = platform.subgraphs[subgraph]!.url;
        const variables = { r: [{ __typename: representations[subgraph], id: 'x_1' }] };
        const forged = internalToken(subgraph, { sub: userA, scopes: ['admin'] }, { privateKey: otherInternalKey() });
        const expired = internalToken(subgraph, { sub: userA }, { ttlSeconds: -60 });
        const elsewhere = internalToken(subgraph === 'users' ? 'orders' : 'users', { sub: userA });
        for (const [name, query] of Object.entries(QUERIES)) {
          for (const [what, headers] of [
            ['no token', {}],
            ['forged', { [INTERNAL_IDENTITY_HEADER]: forged }],
            ['expired', { [INTERNAL_IDENTITY_HEADER]: expired }],
            ['other audience', { [INTERNAL_IDENTITY_HEADER]: elsewhere }],
            ['a client token', { [INTERNAL_IDENTITY_HEADER]: await userToken(userA) }],
            ['x-user-id', { 'x-user-id': userA }],
          ] as const) {
            const res = await postGraphQL(url, query, name === '_entities' ? variables : undefined, headers);
            assert.equal(res.status, 401, `${subgraph} ${name} with ${what}: ${JSON.stringify(res.body)}`);
            assert.equal(res.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
          }
        }
        const signed = await postGraphQL(url, QUERIES._service, undefined, {
          [INTERNAL_IDENTITY_HEADER]: internalToken(subgraph),
        });
        assert.equal(signed.status, 200);
        assert.match(signed.body.data._service.sdl, /type Query/);
        for (const path of ['/health', '/ready', '/metrics'])
          assert.equal((await fetch(new URL(path, url))).status, 200, `${subgraph} ${path} stays open`);
      });
    }
  });

  describe('private cache entries never cross callers', () => {
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

    it('two users and an anonymous client each get their own me { email }: POST, GET, APQ and hot path', async () => {
      const emailOf = new Map<string, string>();
      const callers: Array<[string, Record<string, string>]> = [
        ['A', await asUser(userA)],
        ['B', await asUser(userB)],
        ['anonymous', {}],
      ];
      const expect = async (who: string, res: GraphQLResponse) => {
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const me = res.body.data?.me;
        if (who === 'anonymous') return assert.equal(me, null);
        assert.equal(me.id, who === 'A' ? userA : userB);
        if (!emailOf.has(who)) emailOf.set(who, me.email);
        assert.equal(me.email, emailOf.get(who), `${who} sees only its own email`);
      };
      const hash = sha256(ME);
      const apq = { version: 1, sha256Hash: hash };
      let hits = 0;
      for (let round = 0; round < 3; round++) {
        for (const [who, headers] of round === 1 ? [...callers].reverse() : callers) {
          const post = await platform.gql(ME, undefined, headers);
          await expect(who, post);
          const get = await fetch(`${platform.gateway.url}?query=${encodeURIComponent(ME)}`, {
            headers: { ...headers, 'apollo-require-preflight': 'true' },
          });
          await expect(who, {
            status: get.status,
            headers: get.headers,
            body: (await get.json()) as GraphQLResponse['body'],
          });
          // APQ: the first caller registers the document; everyone else sends the hash alone.
          const byHash = await postJson(platform.gateway.url, { extensions: { persistedQuery: apq } }, headers);
          if (byHash.body.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND')
            await expect(
              who,
              await postJson(platform.gateway.url, { query: ME, extensions: { persistedQuery: apq } }, headers),
            );
          else await expect(who, byHash);
          for (const res of [post, byHash]) if (res.headers.get('x-cache') === 'HIT') hits++;
        }
      }
      assert.notEqual(emailOf.get('A'), emailOf.get('B'));
      assert.ok(hits > 0, 'some answers came from the cache (the test exercises it)');
    });
  });

  describe('budgets and API keys', () => {
    const partner = apiKey('partner', { scopes: ['products:write'], budget: '50000/1' });
    const plain = apiKey('plain');
    let gateway: GatewayProcess;
    const QUERY = '{ products(first: 100) { edges { node { id name } } } }';

    before(async () => {
      gateway = await startGatewayProcess(platform, {
        ...apiKeysEnv(partner, plain),
        COST_MODE: 'enforce',
        COST_MAX: '1000',
        COST_BUDGET_CAPACITY: '1000',
        COST_BUDGET_REFILL_PER_SECOND: '0.001',
        RESPONSE_CACHE: 'false',
      });
      processes.push(gateway);
    });

    it('a known API key has its configured budget; an unknown one is refused with 401, not given a budget', async () => {
      const known = await postGraphQL(gateway.url, QUERY, undefined, { 'x-api-key': partner.key });
      assert.equal(known.status, 200, JSON.stringify(known.body));
      assert.equal(known.headers.get('ratelimit-policy'), '"cost";q=50000;w=50000');
      const other = await postGraphQL(gateway.url, QUERY, undefined, { 'x-api-key': plain.key });
      assert.equal(other.headers.get('ratelimit-policy'), '"cost";q=1000;w=1000000');
      for (const key of ['guess', `${partner.key}x`, partner.entry.sha256 as string]) {
        const res = await postGraphQL(gateway.url, QUERY, undefined, { 'x-api-key': key });
        assertUnauthenticated(res);
        assert.equal(res.headers.get('ratelimit'), null, 'no budget for an unknown key');
      }
    });

    it('a client out of budget gets no new one by rotating headers, tokens of the same user or unknown API keys', async () => {
      const spend = async (headers: Record<string, string>) => {
        for (let i = 0; i < 20; i++) {
          const res = await postGraphQL(gateway.url, QUERY, undefined, headers);
          if (res.status === 429) return;
          assert.equal(res.status, 200, JSON.stringify(res.body));
        }
        assert.fail('the budget never ran out');
      };
      // Anonymous: the client IP's budget.
      await spend({});
      const rotations: Record<string, string>[] = [
        { 'x-session-id': 'fresh-session' },
        { 'x-forwarded-for': '203.0.113.9' },
        { 'x-api-key': 'made-up-key' },
        { 'x-user-id': 'usr_1' },
        { authorization: `Bearer ${await hostileTokens.otherKey(userA)}` },
        { authorization: `Bearer ${await hostileTokens.algNone(userA)}` },
      ];
      for (const headers of rotations) {
        const res = await postGraphQL(gateway.url, QUERY, undefined, headers);
        assert.ok(res.status === 429 || res.status === 401, `${JSON.stringify(headers)}: ${res.status}`);
      }
      // A verified user: their own budget, the same whichever of their tokens they send.
      await spend(await asUser(userA));
      for (const scopes of [[], ['admin'], ['products:write', 'x']]) {
        const res = await postGraphQL(gateway.url, QUERY, undefined, await asUser(userA, scopes));
        assert.equal(res.status, 429, `a new token of the same user (${scopes.join(' ')}) has no new budget`);
      }
    });
  });

  describe('the sandbox signs in as a seeded user or the admin, in development only', () => {
    const browser = { accept: 'text/html' };

    it('development: the page opens on a storefront query and offers sign-in; its tokens are real ones', async () => {
      const html = await (await fetch(platform.gateway.url, { headers: browser })).text();
      assert.match(html, /query Storefront/);
      assert.match(html, /"signIn":\{"path":"sandbox\/sign-in","adminUser":"usr_\w+"\}/);
      const signIn = (query: string) => fetch(new URL(`/sandbox/sign-in?${query}`, platform.gateway.url));
      const { token } = (await (await signIn(`user=${userA}`)).json()) as { token: string };
      assert.equal((await platform.gql(ME, undefined, authHeader(token))).body.data.me.id, userA);
      const admin = (await (await signIn(`user=${userB}&scope=admin`)).json()) as { token: string };
      const listed = await platform.gql(
        '{ users(first: 3) { edges { node { id } } } }',
        undefined,
        authHeader(admin.token),
      );
      assert.equal(listed.body.data.users.edges.length, 3);
      assert.equal((await signIn('user=nobody')).status, 400);
    });

    it('production: no sign-in route and no sign-in on the page, even with GATEWAY_SANDBOX=true', async () => {
      const gateway = await startGatewayProcess(platform, {
        NODE_ENV: 'production',
        GATEWAY_SANDBOX: 'true',
        GATEWAY_INTROSPECTION: 'true',
        JWT_ISSUER: 'commerce',
        JWT_AUDIENCE: 'commerce-api',
      });
      processes.push(gateway);
      const html = await (await fetch(gateway.url, { headers: browser })).text();
      assert.match(html, /"signIn":null/);
      assert.equal((await fetch(new URL(`/sandbox/sign-in?user=${userA}&scope=admin`, gateway.url))).status, 404);
    });
  });

  describe('an expired token is never answered from memory', () => {
    it('the hot path answers a repeat until the token expires, then the gateway refuses it with 401', async () => {
      const gateway = await startGatewayProcess(platform, { JWT_CLOCK_TOLERANCE_SECONDS: '0' });
      processes.push(gateway);
      const lifetime = 3;
      const token = await userToken(userA, { expiresInSeconds: lifetime });
      const expiresAt = (Math.floor(Date.now() / 1000) + lifetime) * 1000;
      const ask = () => postGraphQL(gateway.url, ME, undefined, authHeader(token));
      await waitFor('a hot-path hit for the token', async () => (await ask()).headers.get('x-cache') === 'HIT', 2000);
      let refused = 0;
      await waitFor(
        'the token to expire and be refused',
        async () => {
          const sentAt = Date.now();
          const res = await ask();
          if (sentAt >= expiresAt + 1000) {
            assertUnauthenticated(res);
            refused++;
          } else if (res.status === 200) assert.equal(res.body.data.me.id, userA);
          return refused >= 3;
        },
        (lifetime + 5) * 1000,
      );
    });
  });
});

describe('client tokens from a JWKS (JWT_JWKS_URL)', () => {
  let platform: TestPlatform;
  let gateway: GatewayProcess;
  let jwks: Server;
  let served: JWK[] = [];
  let fetches = 0;
  const COOL_DOWN_MS = 1500;

  async function keyPair(kid: string, alg: 'ES256' | 'RS256' | 'EdDSA') {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const sign = (sub: string) =>
      new SignJWT({ scope: '' })
        .setProtectedHeader({ alg, kid })
        .setSubject(sub)
        .setIssuer(DEV_CLAIMS.iss)
        .setAudience(DEV_CLAIMS.aud)
        .setExpirationTime('1h')
        .sign(privateKey);
    return { jwk, sign };
  }

  before(async () => {
    jwks = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    platform = await startTestPlatform();
    gateway = await startGatewayProcess(platform, {
      JWT_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      JWT_JWKS_COOLDOWN_MS: String(COOL_DOWN_MS),
      // Only the key set verifies here.
      JWT_SECRET: '',
    });
  });
  after(async () => {
    await gateway?.stop();
    await platform?.stop();
    jwks?.close();
  });

  it('verifies ES256, RS256 and EdDSA tokens from the key set; picks up a rotated key without a restart; an unknown kid does not hammer the JWKS', async () => {
    const first = await keyPair('k1', 'ES256');
    const rsa = await keyPair('k2', 'RS256');
    const ed = await keyPair('k3', 'EdDSA');
    served = [first.jwk, rsa.jwk, ed.jwk];
    for (const key of [first, rsa, ed]) {
      const res = await postGraphQL(gateway.url, ME, undefined, authHeader(await key.sign('usr_4198501793793')));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.data.me.id, 'usr_4198501793793');
    }
    assert.equal(fetches, 1, 'the key set is fetched once and cached');

    // Rotation: the provider publishes a new key and retires the old one.
    const rotated = await keyPair('k4', 'ES256');
    served = [rotated.jwk];
    const rotatedToken = authHeader(await rotated.sign('usr_4198501793793'));
    await waitFor(
      'the rotated key to be accepted',
      async () => (await postGraphQL(gateway.url, ME, undefined, rotatedToken)).status === 200,
      COOL_DOWN_MS * 4,
    );
    const afterRotation = fetches;
    assert.ok(afterRotation >= 2, 'fetched again for the unknown kid');

    // Tokens with kids the set does not hold: refused, and at most one fetch per cool-down.
    const started = Date.now();
    const unknown = await keyPair('nobody', 'ES256');
    const token = authHeader(await unknown.sign('usr_4198501793793'));
    for (let i = 0; i < 30; i++) assertUnauthenticated(await postGraphQL(gateway.url, ME, undefined, token));
    const windows = Math.floor((Date.now() - started) / COOL_DOWN_MS) + 1;
    assert.ok(
      fetches - afterRotation <= windows,
      `30 unknown-kid tokens cost ${fetches - afterRotation} JWKS fetches (at most ${windows})`,
    );
    // An HS256 token with no JWT_SECRET, or an unsigned one, is refused here too.
    assertUnauthenticated(
      await postGraphQL(gateway.url, ME, undefined, authHeader(await userToken('usr_4198501793793'))),
    );
    assertUnauthenticated(
      await postGraphQL(gateway.url, ME, undefined, authHeader(await hostileTokens.algNone('usr_4198501793793'))),
    );
  });
});
