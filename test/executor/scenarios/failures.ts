/**
 * Failures: a subgraph that answers GraphQL errors (with paths) for some
 * entities and `null` for others, non-null fields failing at several depths
 * (in the subgraph and at the gateway, inside lists too, up to the root), a
 * subgraph that answers HTTP 500 and one nobody listens on (connection refused).
 */
import assert from 'node:assert/strict';
import { GraphQLError } from 'graphql';
import { errorPaths, type Scenario, type SubgraphFixture, type Theme } from './harness';

type Row = Record<string, any>;

const STORES: readonly Row[] = [
  { id: 's1', name: 'Centre' },
  { id: 's2', name: 'Harbour' },
  { id: 's3', name: 'Airport' },
  { id: 's4', name: 'Old town' },
];
/**
 * The ledger's view: s1 is sound but for an entry approved by an owner the
 * owners subgraph does not know; s2's balance fails and one of its entries has
 * no amount; s3 is unknown to the ledger (null entity); s4 fails as a whole.
 */
const LEDGER: Readonly<Record<string, Row>> = {
  s1: {
    balance: 10,
    mustBalance: 10,
    audit: {
      note: 'ok',
      owner: { id: 'o1' },
      entries: [
        { amount: 5, memo: 'a', approver: { id: 'o1' } },
        { amount: 5, memo: null, approver: { id: 'o2' } },
        { amount: 0, memo: 'void', approver: { id: 'gone' } },
      ],
    },
  },
  s2: {
    balance: new GraphQLError('ledger locked', { extensions: { code: 'LOCKED' } }),
    mustBalance: 20,
    audit: {
      note: 'partial',
      owner: { id: 'gone' },
      entries: [
        { amount: 1, memo: 'x', approver: { id: 'o1' } },
        { amount: null, memo: 'y', approver: { id: 'o1' } },
      ],
    },
  },
};
/** Owners: `gone` is unknown (a null entity). */
const OWNERS: Readonly<Record<string, Row>> = { o1: { name: 'Ann', email: null }, o2: { name: 'Bo', email: 'bo@x' } };

const stores: SubgraphFixture = {
  name: 'stores',
  typeDefs: `
    type Query {
      stores: [Store!]
      storesLoose: [Store]!
      store(id: ID!): Store
      "The store the ledger does not know (s3): its non-null fields from the ledger are missing."
      headquarters: Store!
    }
    type Store @key(fields: "id") { id: ID! name: String! }
  `,
  resolvers: {
    Query: {
      stores: () => STORES,
      storesLoose: () => STORES,
      store: (_: unknown, { id }: { id: string }) => STORES.find((s) => s.id === id) ?? null,
      headquarters: () => STORES[2],
    },
    Store: { __resolveReference: (ref: Row) => STORES.find((s) => s.id === ref.id) ?? null },
  },
};

const ledger: SubgraphFixture = {
  name: 'ledger',
  typeDefs: `
    type Store @key(fields: "id") {
      id: ID!
      balance: Int
      mustBalance: Int!
      audit: Audit
      weather: String @external
      "Needs the weather, which comes from a subgraph answering HTTP 500."
      advice: String @requires(fields: "weather")
    }
    type Audit { note: String entries: [Entry!]! owner: Owner }
    type Entry { amount: Int! memo: String approver: Owner! }
    type Owner @key(fields: "id") { id: ID! }
  `,
  resolvers: {
    Store: {
      // Async, so one rejected reference fails its own entity only (a synchronous throw would fail all of `_entities`).
      __resolveReference: async (ref: Row) => {
        if (ref.id === 's4')
          throw new GraphQLError(`store ${ref.id} is archived`, { extensions: { code: 'ARCHIVED' } });
        return LEDGER[ref.id] ? { id: ref.id, ...LEDGER[ref.id] } : null;
      },
      balance: (s: Row) => {
        if (s.balance instanceof Error) throw s.balance;
        return s.balance;
      },
      advice: (s: Row) => `weather was ${String(s.weather)}`,
    },
  },
};

const owners: SubgraphFixture = {
  name: 'owners',
  typeDefs: `type Owner @key(fields: "id") { id: ID! name: String! email: String }`,
  resolvers: {
    Owner: {
      __resolveReference: (ref: Row) => (OWNERS[ref.id] ? { id: ref.id, ...OWNERS[ref.id] } : null),
    },
  },
};

/** Answers HTTP 500 to every fetch. */
const weather: SubgraphFixture = {
  name: 'weather',
  behaviour: 'http-500',
  typeDefs: `type Store @key(fields: "id") { id: ID! weather: String forecast: String! }`,
  resolvers: {},
};

/** Nothing listens on its port. */
const offline: SubgraphFixture = {
  name: 'offline',
  behaviour: 'down',
  typeDefs: `
    type Query { offlineStatus: String }
    type Store @key(fields: "id") { id: ID! rating: Int }
  `,
  resolvers: {},
};

export const failureSubgraphs: readonly SubgraphFixture[] = [stores, ledger, owners, weather, offline];

const STORE_IDS = ['s1', 's2', 's3', 's4'];

const scenarios: Scenario[] = [
  {
    name: 'keeps the sibling entities when the subgraph answers an error for one entity’s field, null for another, an error for a third',
    query: `{ stores { id name balance } }`,
    check: (body) => {
      assert.deepEqual(
        body.data?.stores.map((s: Row) => [s.id, s.name, s.balance]),
        [
          ['s1', 'Centre', 10],
          ['s2', 'Harbour', null],
          ['s3', 'Airport', null],
          ['s4', 'Old town', null],
        ],
      );
      const messages = (body.errors ?? []).map((e) => e.message);
      assert.ok(messages.includes('ledger locked'), JSON.stringify(body.errors));
      assert.ok(messages.includes('store s4 is archived'), JSON.stringify(body.errors));
      assert.ok(errorPaths(body).includes(JSON.stringify(['stores', 1, 'balance'])), JSON.stringify(body.errors));
    },
  },
  {
    name: 'nulls the whole nullable list when a non-null entity field is missing for one element ([Store!])',
    query: `{ stores { id mustBalance } }`,
    check: (body) => {
      assert.equal(body.data?.stores, null);
      assert.deepEqual(errorPaths(body), [JSON.stringify(['stores', 3])]);
    },
  },
  {
    name: 'nulls only the element of a list of nullable entities whose non-null field is missing ([Store]!)',
    query: `{ storesLoose { id name mustBalance } }`,
    check: (body) => {
      assert.deepEqual(
        body.data?.storesLoose.map((s: Row | null) => s?.id ?? null),
        ['s1', 's2', null, null],
      );
      assert.equal(body.data?.storesLoose[1].mustBalance, 20);
    },
  },
  {
    name: 'nulls data when a non-null root field’s entity loses a non-null field',
    query: `{ headquarters { id name mustBalance } }`,
    check: (body) => {
      assert.equal(body.data, null);
      assert.deepEqual(
        body.extensions?.valueCompletion?.map((e: Row) => e.path),
        [['headquarters', 'mustBalance']],
      );
    },
  },
  {
    name: 'keeps a subgraph’s own null bubbling (entry amount → entries → audit) and its error path under the entity',
    query: `{ s2: store(id: "s2") { name audit { note entries { amount memo } } } s1: store(id: "s1") { audit { entries { amount } } } }`,
    check: (body) => {
      assert.deepEqual(body.data, {
        s2: { name: 'Harbour', audit: null },
        s1: { audit: { entries: [{ amount: 5 }, { amount: 5 }, { amount: 0 }] } },
      });
      assert.deepEqual(
        body.errors?.map((e) => e.path),
        [['s2', 'audit', 'entries', 1, 'amount']],
      );
    },
  },
  {
    name: 'bubbles a missing non-null field of a nested entity at the gateway: approver.name → approver → entry → entries → audit',
    query: `{
      stores {
        id
        balance
        audit {
          note
          owner { id name }
          entries { amount approver { id name email } }
        }
      }
    }`,
    check: (body) => {
      // s1: its third entry's approver is unknown (gateway); s2: an entry without amount (subgraph); s3, s4: no entity.
      assert.deepEqual(
        body.data?.stores.map((s: Row) => [s.id, s.balance, s.audit]),
        [
          ['s1', 10, null],
          ['s2', null, null],
          ['s3', null, null],
          ['s4', null, null],
        ],
      );
      // With subgraph errors present, Apollo reports no valueCompletion extension.
      assert.deepEqual(errorPaths(body), [
        JSON.stringify(['stores', 1, 'audit', 'entries', 1, 'amount']),
        JSON.stringify(['stores', 1, 'balance']),
        JSON.stringify(['stores', 3]),
      ]);
      assert.equal(body.extensions, undefined);
    },
  },
  {
    name: 'reports the gateway’s own null bubbling inside a list (approver.name → … → audit) in extensions.valueCompletion',
    query: `{ store(id: "s1") { balance audit { note entries { memo approver { name } } } } }`,
    check: (body) => {
      assert.deepEqual(body.data, { store: { balance: 10, audit: null } });
      assert.equal(body.errors, undefined);
      assert.deepEqual(
        body.extensions?.valueCompletion?.map((e: Row) => e.path),
        [['store', 'audit', 'entries', 2, 'approver', 'name']],
      );
    },
  },
  {
    name: 'nulls a nullable entity object whose non-null field comes from a null entity (owner gone)',
    query: `{ store(id: "s2") { audit { note owner { id name } } } }`,
    check: (body) => {
      assert.deepEqual(body.data, { store: { audit: { note: 'partial', owner: null } } });
      assert.deepEqual(
        body.extensions?.valueCompletion?.map((e: Row) => e.path),
        [['store', 'audit', 'owner', 'name']],
      );
    },
  },
  {
    name: 'answers an error naming the subgraph for a fetch that got HTTP 500, with the other fields kept',
    query: `{ stores { id name weather } }`,
    check: (body) => {
      assert.deepEqual(
        body.data?.stores.map((s: Row) => [s.id, s.weather]),
        STORE_IDS.map((id) => [id, null]),
      );
      assert.ok(
        body.errors?.some((e) => e.extensions?.serviceName === 'weather'),
        JSON.stringify(body.errors),
      );
    },
  },
  {
    name: 'bubbles a non-null field of a subgraph answering HTTP 500 up to the nullable list',
    query: `{ stores { id forecast } one: store(id: "s1") { name } }`,
    check: (body) => {
      assert.equal(body.data?.stores, null);
      assert.deepEqual(body.data?.one, { name: 'Centre' });
    },
  },
  {
    name: 'leaves a @requires field null when the subgraph of the required field answered HTTP 500 (no fetch without inputs)',
    query: `{ stores { id advice } one: store(id: "s1") { advice weather } }`,
    errorsInAnyOrder: true,
    check: (body) => {
      assert.deepEqual(body.data, {
        stores: STORE_IDS.map((id) => ({ id, advice: null })),
        one: { advice: null, weather: null },
      });
      assert.deepEqual(errorPaths(body), [JSON.stringify(['one']), JSON.stringify(['stores'])]);
      assert.ok(body.errors?.every((e) => e.extensions?.serviceName === 'weather'));
    },
  },
  {
    name: 'answers a refused connection on a root field and on an entity fetch with errors, keeping the other root field',
    query: `{ offlineStatus stores { id rating } }`,
    errorsInAnyOrder: true,
    check: (body) => {
      assert.equal(body.data?.offlineStatus, null);
      assert.deepEqual(
        body.data?.stores.map((s: Row) => [s.id, s.rating]),
        STORE_IDS.map((id) => [id, null]),
      );
      assert.ok(
        body.errors?.some((e) => e.extensions?.serviceName === 'offline'),
        JSON.stringify(body.errors),
      );
    },
  },
  {
    name: 'merges three parallel entity fetches of which one errs per entity, one answers HTTP 500 and one is refused',
    query: `{ stores { id balance weather rating } }`,
    errorsInAnyOrder: true,
    check: (body) => {
      assert.deepEqual(
        body.data?.stores.map((s: Row) => [s.id, s.balance, s.weather, s.rating]),
        [
          ['s1', 10, null, null],
          ['s2', null, null, null],
          ['s3', null, null, null],
          ['s4', null, null, null],
        ],
      );
      const services = new Set(body.errors?.map((e) => e.extensions?.serviceName));
      assert.ok(services.has('weather') && services.has('offline'), JSON.stringify(body.errors));
    },
  },
];

export const failures: Theme = { subgraphs: failureSubgraphs, scenarios };
