import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Supergraph } from '@apollo/federation-internals';
import { getOperationAST, parse } from 'graphql';
import { createCostEstimator, type CostEstimator } from '../../gateway/src/cost/estimator';
import { CostAnalysisError } from '../../gateway/src/cost/plan';
import { withEnforcedSecurity } from '../../gateway/src/features/authorization/rules';
import { composeCost } from './helpers';

function estimatorFor(supergraphSdl: string): CostEstimator {
  const schema = Supergraph.build(withEnforcedSecurity(supergraphSdl)).apiSchema().toGraphQLJSSchema();
  return createCostEstimator({ schema, supergraphSdl, defaultListSize: 10 });
}

function costOf(estimator: CostEstimator, query: string, variables: Record<string, unknown> = {}): number {
  const document = parse(query);
  const operation = getOperationAST(document)!;
  return estimator.estimate(estimator.plan(document, operation), estimator.variables(operation, variables)!);
}

const platform = estimatorFor(readFileSync(new URL('../../schema/supergraph.graphql', import.meta.url), 'utf8'));

/**
 * Against the committed supergraph: connections are `@listSize(slicingArguments: ["first"],
 * sizedFields: ["edges"])` (users/products default first 20, User.orders 10),
 * Order.items assumes 5, createUser/updateProduct/cancelOrder weigh 5 and
 * placeOrder 10. Objects 1, scalars and enums 0, mutations +10.
 */
const PLATFORM_TABLE: {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  cost: number;
  why: string;
}[] = [
  { name: 'one object', query: '{ user(id: "usr_1") { id name } }', cost: 1, why: 'User 1' },
  {
    name: 'connection with the default first',
    query: '{ users { edges { node { id } } } }',
    cost: 41,
    why: 'UserConnection 1 + 20 × (UserEdge 1 + User 1)',
  },
  {
    name: 'first from a variable, plus pageInfo',
    query: 'query ($n: Int!) { users(first: $n) { edges { node { id } } pageInfo { hasNextPage } } }',
    variables: { n: 5 },
    cost: 12,
    why: '1 + 5 × 2 + PageInfo 1',
  },
  {
    name: 'nested connections sized by variables',
    query:
      'query ($u: Int!, $o: Int!) { users(first: $u) { edges { node { orders(first: $o) { edges { node { id } } } } } } }',
    variables: { u: 3, o: 4 },
    cost: 34,
    why: '1 + 3 × (1 + 1 + (OrderConnection 1 + 4 × (OrderEdge 1 + Order 1)))',
  },
  {
    name: 'a named fragment with a defaulted nested connection',
    query:
      '{ users(first: 2) { edges { node { ...U } } } } fragment U on User { id orders { edges { node { total { amount } } } } }',
    cost: 67,
    why: '1 + 2 × (1 + 1 + (1 + 10 × (1 + 1 + Money 1)))',
  },
  {
    name: 'aliases count once each',
    query: '{ a: product(id: "prd_1") { price { amount } } b: product(id: "prd_2") { price { amount } } }',
    cost: 4,
    why: '2 × (Product 1 + Money 1)',
  },
  {
    name: '@include with a false variable',
    query: 'query ($withOrders: Boolean!) { me { id orders @include(if: $withOrders) { edges { node { id } } } } }',
    variables: { withOrders: false },
    cost: 1,
    why: 'User 1; orders skipped',
  },
  {
    name: '@include with a true variable',
    query: 'query ($withOrders: Boolean!) { me { id orders @include(if: $withOrders) { edges { node { id } } } } }',
    variables: { withOrders: true },
    cost: 22,
    why: '1 + (1 + 10 × 2)',
  },
  {
    name: 'a mutation with an input object',
    query: 'mutation { createUser(input: { email: "a@example.com", name: "A" }) { id } }',
    cost: 16,
    why: 'mutation 10 + createUser @cost 5 + input object 1',
  },
  {
    name: 'placeOrder with two items',
    query:
      'mutation { placeOrder(input: { idempotencyKey: "k", items: [{ productId: "prd_1", quantity: 1 }, { productId: "prd_2", quantity: 2 }] }) { id items { quantity } } }',
    cost: 28,
    why: '10 + (placeOrder @cost 10 + 5 × OrderItem 1) + (PlaceOrderInput 1 + 2 × OrderItemInput 1)',
  },
  {
    name: 'placeOrder with its input in a variable',
    query: 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }',
    variables: { input: { idempotencyKey: 'k', items: [1, 2, 3].map((q) => ({ productId: 'prd_1', quantity: q })) } },
    cost: 24,
    why: '10 + 10 + (1 + 3 × 1)',
  },
  {
    name: 'the deep query of the README',
    query: `{ users(first: 50) { edges { node { id name
      orders(first: 10) { edges { node { id status total { formatted }
        items { quantity unitPrice { formatted } product { name price { formatted } } } } } } } } } }`,
    cost: 11651,
    why: '1 + 50 × (1 + 1 + (1 + 10 × (1 + 1 + 1 + 5 × (1 + 1 + 1 + 1))))',
  },
  { name: 'the same response key twice merges', query: '{ me { id } me { name } }', cost: 1, why: 'User 1, once' },
  {
    name: 'defaulted first with assumed item lists',
    query: '{ me { orders { edges { node { items { product { name } } } } } } }',
    cost: 122,
    why: '1 + (1 + 10 × (1 + 1 + 5 × (OrderItem 1 + Product 1)))',
  },
  { name: 'first: 0', query: '{ products(first: 0) { edges { node { id } } } }', cost: 1, why: 'ProductConnection 1' },
  {
    name: '__typename and an inline fragment on the same type',
    query: '{ __typename me { __typename ... on User { id name } } }',
    cost: 1,
    why: 'User 1',
  },
  {
    name: 'a variable default sizes the list',
    query: 'query ($n: Int = 3) { products(first: $n) { edges { node { id price { amount } } } } }',
    cost: 10,
    why: '1 + 3 × (1 + 1 + 1)',
  },
  {
    name: '@skip(if: true) on a fragment spread',
    query: '{ me { id ...O @skip(if: true) } } fragment O on User { orders { edges { node { id } } } }',
    cost: 1,
    why: 'User 1',
  },
];

describe('cost estimates against the platform supergraph', () => {
  for (const { name, query, variables, cost, why } of PLATFORM_TABLE) {
    it(`${name}: ${cost} = ${why}`, () => {
      assert.equal(costOf(platform, query, variables), cost);
    });
  }
});

const LIBRARY = /* GraphQL */ `
  interface Node {
    id: ID!
  }
  type Book implements Node @key(fields: "id") {
    id: ID!
    title: String!
    author: Author!
    reviews(limit: Int): [Review!]!
      @listSize(slicingArguments: ["limit"], assumedSize: 3, requireOneSlicingArgument: false)
  }
  type Author @cost(weight: 5) {
    name: String!
  }
  type Review {
    stars: Int!
    text: String @cost(weight: 2)
  }
  type Movie implements Node @key(fields: "id") {
    id: ID!
    director: Author!
    cast: [Author!]!
  }
  union SearchResult = Book | Movie
  scalar Expensive @cost(weight: 3)
  enum Genre @cost(weight: 2) {
    SF
    ROMANCE
  }
  input Filter {
    genre: Genre
    text: String @cost(weight: 4)
  }
  type BookPage {
    items: [Book!]!
    total: Int!
  }
  type Query {
    node(id: ID!): Node
    search(term: String!, first: Int, last: Int, filter: Filter): [SearchResult!]!
      @listSize(slicingArguments: ["first", "last"], assumedSize: 10, requireOneSlicingArgument: false)
    books(ids: [ID!] @cost(weight: 2)): [Book!]!
    page(first: Int): BookPage @listSize(slicingArguments: ["first"], sizedFields: ["items"])
    blob: Expensive
    genre: Genre
  }
  type Mutation {
    rate(bookId: ID!, stars: Int!): Review
  }
`;

const library = estimatorFor(composeCost([{ name: 'library', url: 'http://127.0.0.1:1/graphql', typeDefs: LIBRARY }]));

const LIBRARY_TABLE: typeof PLATFORM_TABLE = [
  {
    name: 'inline fragments on an interface take the dearest branch',
    query: '{ node(id: "1") { id ... on Book { author { name } } ... on Movie { director { name } cast { name } } } }',
    cost: 56,
    why: 'Node 1 + max(Book: Author 5, Movie: Author 5 + 10 × Author 5)',
  },
  {
    name: 'a fragment on the interface and one on a member both apply to that member',
    query: '{ node(id: "1") { ... on Node { id } ...B } } fragment B on Book { author { name } }',
    cost: 6,
    why: 'Node 1 + max(Book 5, Movie 0)',
  },
  {
    name: 'a union list sized by first',
    query: '{ search(term: "x", first: 2) { ... on Book { title } ... on Movie { id } } }',
    cost: 2,
    why: '2 × 1',
  },
  {
    name: 'the largest of two slicing arguments',
    query: '{ search(term: "x", first: 2, last: 5) { __typename } }',
    cost: 5,
    why: 'max(2, 5) × 1',
  },
  {
    name: '@cost on input fields and enum types',
    query: '{ search(term: "x", filter: { genre: SF, text: "a" }) { __typename } }',
    cost: 17,
    why: 'assumedSize 10 × 1 + (Filter 1 + Genre 2 + text 4)',
  },
  {
    name: '@cost on a list argument counts per element',
    query: '{ books(ids: ["1", "2", "3"]) { id } }',
    cost: 18,
    why: 'default 10 × 1 + (2 + 3 × 2)',
  },
  {
    name: 'sizedFields: the slicing argument sizes a child list',
    query: '{ page(first: 4) { items { id } total } }',
    cost: 5,
    why: 'BookPage 1 + 4 × Book 1',
  },
  { name: '@cost on scalar and enum types', query: '{ blob genre }', cost: 5, why: 'Expensive 3 + Genre 2' },
  {
    name: 'assumedSize inside a default-sized list',
    query: '{ books { reviews { stars text } } }',
    cost: 100,
    why: '10 × (1 + 3 × (Review 1 + text 2))',
  },
  {
    name: 'a slicing variable overrides assumedSize',
    query: 'query ($n: Int) { books { reviews(limit: $n) { stars } } }',
    variables: { n: 2 },
    cost: 30,
    why: '10 × (1 + 2 × 1)',
  },
  {
    name: 'a mutation adds 10',
    query: 'mutation { rate(bookId: "1", stars: 5) { stars } }',
    cost: 11,
    why: '10 + Review 1',
  },
];

describe('cost estimates of abstract types and @cost on types, arguments and inputs', () => {
  for (const { name, query, variables, cost, why } of LIBRARY_TABLE) {
    it(`${name}: ${cost} = ${why}`, () => {
      assert.equal(costOf(library, query, variables), cost);
    });
  }

  it('refuses a field whose required slicing argument is missing', () => {
    assert.throws(
      () => costOf(library, '{ page { total } }'),
      (error: unknown) =>
        error instanceof CostAnalysisError &&
        error.reason === 'slicing' &&
        /Query\.page needs exactly one/.test(error.message),
    );
  });
});

describe('cost plans', () => {
  it('compiles once per document and evaluates only what variables change', () => {
    const document = parse('query ($n: Int!) { users(first: $n) { edges { node { id } } } }');
    const operation = getOperationAST(document)!;
    const plan = platform.plan(document, operation);
    assert.equal(platform.plan(document, operation), plan, 'the same document reuses its plan');
    assert.equal(plan.fixed, undefined);
    assert.equal(platform.estimate(plan, { n: 1 }), 3);
    assert.equal(platform.estimate(plan, { n: 7 }), 15);
    const fixed = parse('{ users(first: 2) { edges { node { id } } } }');
    assert.equal(platform.plan(fixed, getOperationAST(fixed)!).fixed, 5, 'a variable-free plan carries its estimate');
  });

  it('reports invalid variables as undefined (execution refuses them)', () => {
    const document = parse('query ($n: Int!) { users(first: $n) { edges { node { id } } } }');
    assert.equal(platform.variables(getOperationAST(document)!, { n: 'many' }), undefined);
  });

  it('measures the actual cost from the response shape', () => {
    const document = parse('{ users(first: 5) { edges { node { id orders(first: 3) { edges { node { id } } } } } } }');
    const plan = platform.plan(document, getOperationAST(document)!);
    assert.equal(platform.estimate(plan, {}), 1 + 5 * (2 + 1 + 3 * 2));
    const data = {
      users: {
        edges: [
          { node: { id: 'usr_1', orders: { edges: [{ node: { id: 'ord_1' } }] } } },
          { node: { id: 'usr_2', orders: { edges: [] } } },
        ],
      },
    };
    assert.equal(platform.actual(plan, {}, data), 1 + (2 + 1 + 1 * 2) + (2 + 1 + 0));
    assert.equal(platform.actual(plan, {}, undefined), 0, 'nothing executed, nothing spent');
  });

  it('prices an abstract value by its __typename when the response has one', () => {
    const document = parse(
      '{ node(id: "1") { __typename ... on Book { author { name } } ... on Movie { cast { name } } } }',
    );
    const plan = library.plan(document, getOperationAST(document)!);
    assert.equal(library.actual(plan, {}, { node: { __typename: 'Book', author: { name: 'A' } } }), 1 + 5);
    assert.equal(
      library.actual(plan, {}, { node: { __typename: 'Movie', cast: [{ name: 'A' }, { name: 'B' }] } }),
      1 + 2 * 5,
    );
    assert.equal(library.actual(plan, {}, { node: null }), 1, 'a null object costs its own weight');
  });

  it('counts mutations as 10 plus what they returned', () => {
    const document = parse('mutation { rate(bookId: "1", stars: 5) { stars } }');
    const plan = library.plan(document, getOperationAST(document)!);
    assert.equal(library.actual(plan, {}, { rate: { stars: 5 } }), 11);
    assert.equal(library.actual(plan, {}, null), 10, 'executed with null data');
  });
});
