/**
 * Edge cases of shaping and writing a response: strings and numbers that JSON
 * writers escape or format differently, a JSON scalar with `__proto__` and
 * `constructor` keys, aliases named like Object.prototype members,
 * operations that need no fetch at all, list coercion of variables, and a
 * subgraph (`legacy`) that does not follow its own schema: it over-fetches,
 * answers a string for an Int and an unknown enum value, nulls a non-null
 * field without an error, names the wrong `__typename`, answers a null entity,
 * drops an entity from `_entities` and reports an error by entity index.
 */
import assert from 'node:assert/strict';
import { exactly, type Scenario, type SubgraphFixture, type SubgraphRequest, type Theme } from './harness';

type Row = Record<string, any>;

/** Strings a JSON writer must escape (quotes, controls, U+2028/9, a lone surrogate) or pass as UTF-8. */
export const TRICKY_STRINGS: readonly string[] = [
  'plain',
  'quote " and backslash \\',
  'line\nbreak\ttab\rreturn\bback\fform',
  'nul \u0000 bell \u0007 esc \u001b del \u007f',
  'separators \u2028 \u2029',
  'emoji 😀, é, ñ, 中文',
  'lone \ud800 surrogate',
  '</script><!-- -->',
  '',
];
/** Numbers whose shortest form varies: -0, 0.1 + 0.2, exponents, the smallest double. */
const TRICKY_NUMBERS: readonly number[] = [0, -0, 1.5, 0.1 + 0.2, 1e21, 1e-7, -123456789.125, 2 ** 53 + 2, 5e-324];
/** Built by JSON.parse so that `__proto__` is an own key, as it is after the gateway parses a subgraph answer. */
const BLOB_TEXT =
  '{"__proto__":{"polluted":true},"constructor":{"name":"x"},"toString":1,' +
  '"nested":[1,"two",null,true,{"a":[]}],"":"empty key","ключ":"юникод"}';

const GADGETS: readonly Row[] = ['g1', 'g2', 'g3', 'g5', 'g4'].map((id) => ({ id, label: `Gadget ${id}` }));

const texts: SubgraphFixture = {
  name: 'texts',
  typeDefs: `
    scalar JSON
    type Query {
      strings: [String!]!
      numbers: [Float!]!
      blob: JSON
      echo(value: JSON): JSON
      gadget(id: ID!): Gadget
      gadgets(ids: [ID!]): [Gadget]!
      gadgetGrid: [[Gadget]]
    }
    type Mutation { touch: Boolean }
    type Gadget @key(fields: "id") { id: ID! label: String! }
  `,
  resolvers: {
    Query: {
      strings: () => TRICKY_STRINGS,
      numbers: () => TRICKY_NUMBERS,
      blob: () => JSON.parse(BLOB_TEXT) as unknown,
      echo: (_: unknown, { value }: { value: unknown }) => value,
      gadget: (_: unknown, { id }: { id: string }) => GADGETS.find((g) => g.id === id) ?? null,
      gadgets: (_: unknown, { ids }: { ids?: string[] }) => (ids ? GADGETS.filter((g) => ids.includes(g.id)) : GADGETS),
      gadgetGrid: () => [[GADGETS[1], null, GADGETS[0]], [], null, [GADGETS[1]]],
    },
    Mutation: { touch: () => true },
    Gadget: { __resolveReference: (ref: Row) => GADGETS.find((g) => g.id === ref.id) ?? null },
  },
};

/** What `legacy` answers for each gadget, whatever was asked (undefined: the entity is left out of `_entities`). */
function legacyEntity(id: string): Row | null | undefined {
  switch (id) {
    case 'g1':
      return {
        __typename: 'Gadget',
        id: 'g1',
        serial: 1,
        kind: 'A',
        mandatory: 'm1',
        unasked: 'leaked',
        parts: [{ name: 'bolt', colour: 'grey' }],
      };
    case 'g2':
      return { __typename: 'Gadget', id: 'g2', serial: '12', kind: 'Z', mandatory: null, parts: [null] };
    case 'g3':
      return null;
    case 'g5':
      return { __typename: 'Gizmo', id: 'g5', serial: 5, kind: 'B', mandatory: 'm5', parts: [] };
    default:
      return undefined;
  }
}

const legacy: SubgraphFixture = {
  name: 'legacy',
  typeDefs: `
    enum GadgetKind { A B }
    type Part { name: String }
    type Gadget @key(fields: "id") { id: ID! serial: Int kind: GadgetKind mandatory: String! parts: [Part] }
  `,
  resolvers: {},
  answer: ({ variables }: SubgraphRequest) => {
    const representations = (variables?.representations ?? []) as Row[];
    const entities: Array<Row | null> = [];
    const errors: Row[] = [];
    for (const { id } of representations) {
      const entity = legacyEntity(id as string);
      if (entity === undefined) continue;
      if (id === 'g2')
        errors.push({
          message: 'serial is not a number',
          path: ['_entities', entities.length, 'serial'],
          extensions: { code: 'BAD_SERIAL' },
        });
      entities.push(entity);
    }
    return { data: { _entities: entities }, ...(errors.length > 0 ? { errors } : {}) };
  },
};

/** A well-behaved subgraph adding fields to `Gadget`. */
const specs: SubgraphFixture = {
  name: 'specs',
  typeDefs: `type Gadget @key(fields: "id") { id: ID! grams: Int! colour: String }`,
  resolvers: {
    Gadget: { __resolveReference: (ref: Row) => ({ id: ref.id, grams: Number(ref.id.slice(1)) * 100, colour: null }) },
  },
};

export const edgeCaseSubgraphs: readonly SubgraphFixture[] = [texts, legacy, specs];

const scenarios: Scenario[] = [
  {
    name: 'writes strings that need escaping (controls, U+2028, a lone surrogate) and numbers in their shortest form',
    query: `{ strings numbers }`,
    check: exactly({ strings: [...TRICKY_STRINGS], numbers: TRICKY_NUMBERS.map((n) => (Object.is(n, -0) ? 0 : n)) }),
  },
  {
    name: 'passes a JSON scalar with own __proto__ and constructor keys through unchanged',
    query: `{ blob }`,
    check: (body) => {
      const blob = body.data?.blob as Row;
      assert.deepEqual(Object.keys(blob), ['__proto__', 'constructor', 'toString', 'nested', '', 'ключ']);
      assert.deepEqual(Object.getOwnPropertyDescriptor(blob, '__proto__')?.value, { polluted: true });
      assert.equal(Object.getPrototypeOf(blob), Object.prototype);
    },
  },
  {
    name: 'passes a JSON variable with a __proto__ key to the subgraph and back',
    query: `query Echo($value: JSON) { echo(value: $value) }`,
    variables: JSON.parse('{"value":{"__proto__":{"x":1},"list":[1.5,"s",null]}}') as Record<string, unknown>,
    check: (body) => assert.equal(JSON.stringify(body.data?.echo), '{"__proto__":{"x":1},"list":[1.5,"s",null]}'),
  },
  {
    name: 'keeps aliases named like Object.prototype members (constructor, toString, hasOwnProperty, __proto__)',
    query: `{
      gadget(id: "g1") { constructor: label toString: id hasOwnProperty: grams valueOf: colour __proto__: grams }
      __proto__: gadget(id: "g3") { id propertyIsEnumerable: grams }
    }`,
    check: (body) => {
      assert.deepEqual(Object.entries(body.data?.gadget as Row), [
        ['constructor', 'Gadget g1'],
        ['toString', 'g1'],
        ['hasOwnProperty', 100],
        ['valueOf', null],
        ['__proto__', 100],
      ]);
      assert.deepEqual(Object.getOwnPropertyDescriptor(body.data, '__proto__')?.value, {
        id: 'g3',
        propertyIsEnumerable: 300,
      });
    },
  },
  {
    name: 'answers operations that need no subgraph fetch: __typename alone, aliased, with introspection, in a mutation',
    query: `{ __typename t: __typename __type(name: "Gadget") { name } }`,
    check: exactly({ __typename: 'Query', t: 'Query', __type: { name: 'Gadget' } }),
  },
  {
    name: 'answers a mutation that selects only __typename without calling any subgraph',
    query: `mutation OnlyTypename { __typename again: __typename }`,
    check: exactly({ __typename: 'Mutation', again: 'Mutation' }),
  },
  {
    name: 'coerces a single variable value into a list',
    query: `query ById($ids: [ID!]) { gadgets(ids: $ids) { id label } }`,
    variables: { ids: 'g5' },
    check: exactly({ gadgets: [{ id: 'g5', label: 'Gadget g5' }] }),
  },
  {
    name: 'drops fields a subgraph sent without being asked for, and shapes what it was asked',
    query: `{ gadget(id: "g1") { t: __typename id serial parts { name } } }`,
    check: exactly({ gadget: { t: 'Gadget', id: 'g1', serial: 1, parts: [{ name: 'bolt' }] } }),
  },
  {
    name: 'answers a subgraph’s wrongly typed values (a string for an Int, an unknown enum value) and its indexed error',
    query: `{ gadget(id: "g2") { id serial kind parts { name } } }`,
    check: (body) => {
      assert.deepEqual(body.data, { gadget: { id: 'g2', serial: null, kind: null, parts: [null] } });
      assert.deepEqual(errorMessages(body), ['serial is not a number']);
      assert.deepEqual(
        body.errors?.map((e) => e.path),
        [['gadget', 'serial']],
      );
    },
  },
  {
    name: 'bubbles a non-null field a subgraph answered null without an error up to the nullable root field',
    query: `{ gadget(id: "g2") { label mandatory } other: gadget(id: "g1") { mandatory } }`,
    check: (body) => {
      assert.equal(body.data?.gadget, null);
      assert.deepEqual(body.data?.other, { mandatory: 'm1' });
    },
  },
  {
    name: 'shapes entities a subgraph answered null or with the wrong __typename next to sound ones',
    query: `{ gadgets(ids: ["g1", "g2", "g3", "g5"]) { id label serial kind grams } }`,
    check: (body) => {
      assert.deepEqual(body.data?.gadgets, [
        { id: 'g1', label: 'Gadget g1', serial: 1, kind: 'A', grams: 100 },
        // The string for an Int and the unknown enum value are nulled by the gateway.
        { id: 'g2', label: 'Gadget g2', serial: null, kind: null, grams: 200 },
        { id: 'g3', label: 'Gadget g3', serial: null, kind: null, grams: 300 },
        null,
      ]);
      assert.deepEqual(errorMessages(body), ['serial is not a number']);
    },
  },
  {
    // The fetch fails with a plain Error (no extensions): the answer keeps the data it has, the error is reported.
    name: 'fails the same way when a subgraph leaves an entity out of _entities',
    query: `{ gadgets(ids: ["g1", "g4"]) { id kind } }`,
    check: (body) => {
      assert.deepEqual(body.data, {
        gadgets: [
          { id: 'g1', kind: null },
          { id: 'g4', kind: null },
        ],
      });
      assert.match(String(body.errors?.[0]?.message), /Expected "data._entities" to contain 2 elements/);
      assert.equal(body.errors?.[0]?.extensions?.code, 'INTERNAL_SERVER_ERROR');
    },
  },
  {
    name: 'maps an error reported by entity index back into a list of lists with null rows',
    query: `{ gadgetGrid { id serial } }`,
    check: (body) => {
      assert.deepEqual(body.data, {
        gadgetGrid: [
          [{ id: 'g2', serial: null }, null, { id: 'g1', serial: 1 }],
          [],
          null,
          [{ id: 'g2', serial: null }],
        ],
      });
      assert.deepEqual(
        body.errors?.map((e) => e.path),
        [
          ['gadgetGrid', 0, 0, 'serial'],
          ['gadgetGrid', 3, 0, 'serial'],
        ],
      );
    },
  },
];

function errorMessages(body: { errors?: Array<{ message: string }> }): string[] {
  return (body.errors ?? []).map((e) => e.message);
}

export const edgeCases: Theme = { subgraphs: edgeCaseSubgraphs, scenarios };
