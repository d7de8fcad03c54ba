import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import federation from '@apollo/federation-internals';
import { placeholderVariables } from '../../gateway/src/persisted/placeholders';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { withEnforcedSecurity } from '../../gateway/src/features/authorization/rules';
import { adminHeaders, asUser } from '../helpers/tokens';

const SAME = '{ edges { node { orders(first: 100) { edges { node { id } } } } } }';
const TWO_ALIASES = `{ a: users(first: 100) ${SAME} b: users(first: 100) ${SAME} }`;
const DEEP_QUERY = `{ users(first: 50) { edges { node { id name
  orders(first: 10) { edges { node { id status total { formatted }
    items { quantity unitPrice { formatted } product { name price { formatted } } } } } } } } } }`;
const REFUSALS = new Set(['COST_ESTIMATED_TOO_EXPENSIVE', 'RATE_LIMITED']);

interface ManifestOperation {
  name: string;
  type: string;
  body: string;
}

describe('npm start as a new user would: cost limits on by default', () => {
  let platform: TestPlatform;

  before(async () => {
    // No cost variable at all: the defaults of `npm start`.
    platform = await startTestPlatform();
  });
  after(async () => {
    await platform?.stop();
  });

  it('refuses the two-alias users × orders query with COST_ESTIMATED_TOO_EXPENSIVE', async () => {
    // As an admin: for anyone else the gateway removes `users` before it is estimated (README "Authorization").
    const refused = await platform.gql(TWO_ALIASES, undefined, await adminHeaders());
    assert.equal(refused.status, 400);
    const error = refused.body.errors?.[0];
    assert.equal(error?.extensions?.code, 'COST_ESTIMATED_TOO_EXPENSIVE');
    assert.deepEqual(error?.extensions?.cost, { estimated: 40_602, max: 25_000 });
  });

  it('lets the README deep query and every storefront operation through', async () => {
    const deep = await platform.gql(DEEP_QUERY, undefined, await adminHeaders());
    assert.equal(deep.status, 200);
    assert.equal(deep.body.errors, undefined, JSON.stringify(deep.body.errors));
    const sdl = await readFile('schema/supergraph.graphql', 'utf8');
    const schema = federation.Supergraph.build(withEnforcedSecurity(sdl)).apiSchema().toGraphQLJSSchema();
    const manifest = JSON.parse(await readFile('schema/persisted-queries.json', 'utf8')) as {
      operations: ManifestOperation[];
    };
    const user = deep.body.data.users.edges[0].node.id as string;
    assert.ok(manifest.operations.length >= 7);
    for (const operation of manifest.operations) {
      const variables = placeholderVariables(schema, operation.body, operation.name);
      const reply = await platform.gql(operation.body, variables, { ...(await asUser(user)), 'x-cost-report': '1' });
      const codes = (reply.body.errors ?? []).map((e: { extensions?: { code?: string } }) => e.extensions?.code);
      assert.ok(
        !codes.some((code: string | undefined) => code !== undefined && REFUSALS.has(code)),
        `${operation.name} refused: ${JSON.stringify(reply.body.errors)}`,
      );
      assert.notEqual(reply.status, 429, operation.name);
      assert.ok(Number(reply.headers.get('x-cost-estimated')) > 0, `${operation.name} was estimated (cost limits on)`);
    }
  });
});
