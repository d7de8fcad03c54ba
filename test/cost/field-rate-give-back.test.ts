import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommerceError } from '@commerce/common';
import { post, startCostGateway, startCostSubgraphs, type SubgraphSpec } from './helpers';

/** `act` and `other` fail as told: `ours` with SERVICE_UNAVAILABLE (a fault of the platform), `client` with BAD_USER_INPUT. */
const ACTIONS: SubgraphSpec = {
  name: 'actions',
  typeDefs: /* GraphQL */ `
    type Query {
      ping: Int
    }
    type Mutation {
      act(fail: String): Int
      other(fail: String): Int
      costly: Int @cost(weight: 500)
    }
  `,
  resolvers: {
    Query: { ping: () => 1 },
    Mutation: {
      act: (_: unknown, { fail }: { fail?: string }) => outcome(fail),
      other: (_: unknown, { fail }: { fail?: string }) => outcome(fail),
      costly: () => 1,
    },
  },
};

function outcome(fail: string | undefined): number {
  if (fail === 'ours') throw new CommerceError('SERVICE_UNAVAILABLE', 'the database is restarting');
  if (fail === 'client') throw new CommerceError('BAD_USER_INPUT', 'bad input');
  return 1;
}

describe('field rate limits count only calls that were served', () => {
  it("give back calls refused by the cost limit or failed for a fault of ours, and keep those failed for the client's", async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [ACTIONS]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      FIELD_RATE_LIMITS: 'Mutation.act=2/1m@ip,Mutation.other=1/1m@ip',
      COST_MODE: 'enforce',
      COST_MAX: '100',
    });

    for (let i = 0; i < 3; i += 1) {
      const refused = await post(gateway.url, 'mutation { act costly }');
      assert.equal(refused.status, 400);
      assert.equal(refused.body.errors?.[0]?.extensions?.code, 'COST_ESTIMATED_TOO_EXPENSIVE');
    }
    for (let i = 0; i < 3; i += 1) {
      const failed = await post(gateway.url, 'mutation { act(fail: "ours") }');
      assert.equal(failed.body.errors?.[0]?.extensions?.code, 'SERVICE_UNAVAILABLE', JSON.stringify(failed.body));
    }
    // None of the six counted: the limit of 2 is still whole.
    for (let i = 0; i < 2; i += 1)
      assert.deepEqual((await post(gateway.url, 'mutation { act }')).body, { data: { act: 1 } });
    const over = await post(gateway.url, 'mutation { act }');
    assert.equal(over.status, 429);
    assert.equal(over.body.errors?.[0]?.extensions?.code, 'RATE_LIMITED');

    // A call the client got wrong was executed: it counts.
    const mistaken = await post(gateway.url, 'mutation { other(fail: "client") }');
    assert.equal(mistaken.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal((await post(gateway.url, 'mutation { other }')).status, 429);
  });

  it('count one call per response key, however often fragments spread the field', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [ACTIONS]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      FIELD_RATE_LIMITS: 'Mutation.act=2/1m@ip',
    });
    const spread =
      'mutation { ...A ...A ... on Mutation { act } } fragment A on Mutation { act ...B } fragment B on Mutation { act }';
    assert.deepEqual((await post(gateway.url, spread)).body, { data: { act: 1 } });
    assert.deepEqual((await post(gateway.url, 'mutation { act }')).body, { data: { act: 1 } });
    assert.equal((await post(gateway.url, 'mutation { x: act }')).status, 429);
  });
});
