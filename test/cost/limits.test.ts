import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metric } from '../gateway/helpers';
import { post, startCostGateway, startCostSubgraphs, type SubgraphSpec } from './helpers';

type Node = { id: string; child: () => Node };
const node = (depth = 0): Node => ({ id: `n${depth}`, child: () => node(depth + 1) });

const TREE: SubgraphSpec = {
  name: 'tree',
  typeDefs: 'type Node { id: ID! child: Node } type Query { node: Node }',
  resolvers: { Query: { node: () => node() } },
};

const LIMITED = {
  MAX_QUERY_DEPTH: '3',
  MAX_ALIASES: '2',
  MAX_ROOT_FIELDS: '2',
  MAX_DIRECTIVES: '2',
  MAX_SELECTIONS: '6',
  MAX_TOKENS: '40',
};

describe('operation limits', () => {
  const cases = [
    { code: 'MAX_DEPTH_EXCEEDED', query: '{ node { child { child { id } } } }', found: 4 },
    { code: 'MAX_DEPTH_EXCEEDED', query: '{ node { ...F } } fragment F on Node { child { child { id } } }', found: 4 },
    { code: 'MAX_ALIASES_EXCEEDED', query: '{ node { a: id b: id ...F } } fragment F on Node { c: id }', found: 3 },
    {
      code: 'MAX_ROOT_FIELDS_EXCEEDED',
      query: '{ node { id } a: node { id } ... on Query { b: __typename } }',
      found: 3,
    },
    {
      code: 'MAX_DIRECTIVES_EXCEEDED',
      query: '{ node @include(if: true) { id @skip(if: false) child @include(if: true) { id } } }',
      found: 3,
    },
    {
      // Each spread counts its fragment again: node + 2 × (child + 2 × id) = 7 fields.
      code: 'MAX_SELECTIONS_EXCEEDED',
      query:
        '{ node { ...F ...G } } fragment F on Node { child { ...H } } fragment G on Node { ...F } fragment H on Node { id x: id }',
      found: 7,
    },
  ];

  it('refuse operations over each limit with its code, before any subgraph is called', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [TREE]);
    const gateway = await startCostGateway(t, { SUPERGRAPH_PATH: supergraphPath, ...LIMITED });
    const before = await metric(gateway.url, 'gateway_subgraph_requests_total');
    for (const { code, query, found } of cases) {
      const { status, body } = await post(gateway.url, query);
      assert.equal(status, 400, query);
      assert.equal(body.errors?.[0]?.extensions?.code, code, query);
      assert.equal(body.errors?.[0]?.extensions?.found, found, query);
    }
    const long = `{ node { ${Array.from({ length: 40 }, () => 'id').join(' ')} } }`;
    const tokens = await post(gateway.url, long);
    assert.equal(tokens.status, 400);
    assert.equal(tokens.body.errors?.[0]?.extensions?.code, 'MAX_TOKENS_EXCEEDED');
    assert.equal(
      await metric(gateway.url, 'gateway_subgraph_requests_total'),
      before,
      'no subgraph fetch for refused operations',
    );

    const fine = await post(gateway.url, '{ node { id child { id } } }');
    assert.deepEqual(fine.body, { data: { node: { id: 'n0', child: { id: 'n1' } } } });
    assert.equal(
      (await post(gateway.url, '{ node { child { child { id } } } }')).status,
      400,
      'refused again from the cached verdict',
    );
  });

  it('are off when set to 0', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [TREE]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      MAX_QUERY_DEPTH: '0',
      MAX_DIRECTIVES: '0',
    });
    const deep = `{ node { ${'child { '.repeat(20)}id${' }'.repeat(20)} } }`;
    assert.equal((await post(gateway.url, deep)).status, 200);
  });

  it('refuse an operation too large to cost (fragments fanning out through aliases) as too expensive', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [TREE]);
    const gateway = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      MAX_QUERY_DEPTH: '0',
      MAX_ALIASES: '0',
      MAX_SELECTIONS: '0',
      COST_MODE: 'enforce',
      COST_MAX: '1000000000',
      COST_BUDGET_CAPACITY: '1000000000',
    });
    const levels = 17;
    const fragments = Array.from(
      { length: levels },
      (_, i) =>
        `fragment F${i} on Node { a: child { ${i + 1 < levels ? `...F${i + 1}` : 'id'} } b: child { ${i + 1 < levels ? `...F${i + 1}` : 'id'} } }`,
    );
    const { status, body } = await post(gateway.url, `{ node { ...F0 } } ${fragments.join(' ')}`);
    assert.equal(status, 400);
    assert.equal(body.errors?.[0]?.extensions?.code, 'COST_ESTIMATED_TOO_EXPENSIVE');
    assert.match(body.errors?.[0]?.message ?? '', /too large to estimate/);
  });
});

describe('production mode', () => {
  it('hides introspection and field suggestions unless enabled', async (t) => {
    const { supergraphPath } = await startCostSubgraphs(t, [TREE]);
    const closed = await startCostGateway(t, { SUPERGRAPH_PATH: supergraphPath, NODE_ENV: 'production' });
    const refused = await post(closed.url, '{ __schema { queryType { name } } }');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.doesNotMatch(JSON.stringify((await post(closed.url, '{ nod { id } }')).body), /Did you mean/);

    const open = await startCostGateway(t, {
      SUPERGRAPH_PATH: supergraphPath,
      NODE_ENV: 'production',
      GATEWAY_INTROSPECTION: 'true',
      GATEWAY_FIELD_SUGGESTIONS: 'true',
    });
    assert.deepEqual((await post(open.url, '{ __schema { queryType { name } } }')).body, {
      data: { __schema: { queryType: { name: 'Query' } } },
    });
    assert.match(JSON.stringify((await post(open.url, '{ nod { id } }')).body), /Did you mean/);

    const development = await startCostGateway(t, { SUPERGRAPH_PATH: supergraphPath, NODE_ENV: 'development' });
    assert.match(JSON.stringify((await post(development.url, '{ nod { id } }')).body), /Did you mean/);
  });
});
