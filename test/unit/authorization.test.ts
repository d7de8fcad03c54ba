import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import {
  defaultFieldResolver,
  executeSync,
  parse,
  print,
  type DocumentNode,
  type GraphQLFieldResolver,
  type OperationDefinitionNode,
} from 'graphql';
import { authorizeOperation, filteredQueryHash } from '../../gateway/src/features/authorization/filter';
import { applyRemovals } from '../../gateway/src/features/authorization/patch';
import {
  accessRules,
  labelRefusal,
  withEnforcedSecurity,
  type AccessRules,
  type AccessSubject,
} from '../../gateway/src/features/authorization/rules';
import { validateSupergraph } from '../../gateway/src/supergraph';

const SUPERGRAPH = readFileSync(new URL('../../schema/supergraph.graphql', import.meta.url), 'utf8');
const rules = accessRules(SUPERGRAPH);
const schema = Supergraph.build(withEnforcedSecurity(SUPERGRAPH)).apiSchema().toGraphQLJSSchema();

const anonymous: AccessSubject = { authenticated: false, scopes: new Set() };
const userA: AccessSubject = { authenticated: true, scopes: new Set() };
const admin: AccessSubject = { authenticated: true, scopes: new Set(['admin']) };
const writer: AccessSubject = { authenticated: true, scopes: new Set(['products:write']) };

function authorize(query: string, subject: AccessSubject, withRules: AccessRules = rules) {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode;
  return authorizeOperation({ schema, rules: withRules, document, operation, subject });
}

function fieldsOf(document: DocumentNode): string[] {
  const names: string[] = [];
  const walk = (text: string) =>
    text.replace(/\b([A-Za-z_]\w*)\s*(?=[({}\s])/g, (m, name: string) => (names.push(name), m));
  walk(print(document));
  return names;
}

test('the supergraph carries the SDL rules, and the gateway accepts it once it enforces them itself', () => {
  assert.deepEqual(rules.fields.get('Query.users'), { authenticated: true, anyOf: [['admin']] });
  assert.deepEqual(rules.fields.get('Mutation.updateProduct'), { authenticated: true, anyOf: [['products:write']] });
  for (const coordinate of ['User.email', 'User.orders', 'Query.order', 'Mutation.placeOrder', 'Mutation.cancelOrder'])
    assert.deepEqual(rules.fields.get(coordinate), { authenticated: true, anyOf: [] }, coordinate);
  for (const open of ['User.name', 'Query.me', 'Query.user', 'Query.products', 'Mutation.createUser'])
    assert.equal(rules.fields.get(open), undefined, open);
  assert.throws(() => Supergraph.build(SUPERGRAPH), /SECURITY but is unsupported/);
  assert.doesNotThrow(() => validateSupergraph(SUPERGRAPH, {}));
});

test('an anonymous caller loses the protected fields, keeps the public ones, and the query hash says so', () => {
  const decision = authorize(
    '{ users(first: 2) { edges { node { name } } } me { id email } product(id: "prd_1") { name } }',
    anonymous,
  );
  assert.deepEqual(fieldsOf(decision.document).includes('users'), false);
  assert.match(print(decision.document), /me \{\s+id\s+\}/);
  assert.match(print(decision.document), /product\(id: "prd_1"\)/);
  assert.equal(decision.removals.get('users')?.removed, 'UNAUTHENTICATED');
  assert.equal(decision.removals.get('me')?.children?.get('email')?.removed, 'UNAUTHENTICATED');
  assert.equal(decision.nothingLeft, false);
  assert.notEqual(filteredQueryHash('h', decision.signature), 'h');
  assert.equal(filteredQueryHash('h', ''), 'h');
});

test('a signed-in caller without the scope gets FORBIDDEN for it, UNAUTHENTICATED never', () => {
  const decision = authorize('{ users { edges { node { email } } } me { email orders { edges { cursor } } } }', userA);
  assert.equal(decision.removals.get('users')?.removed, 'FORBIDDEN');
  assert.equal(decision.removals.has('me'), false);
  assert.deepEqual(decision.requirements, ['authenticated']);
  const write = authorize('mutation { updateProduct(id: "prd_1", input: { name: "x" }) { id } }', userA);
  assert.equal(write.removals.get('updateProduct')?.removed, 'FORBIDDEN');
  assert.equal(write.nothingLeft, true);
});

test('a caller with every scope keeps the document object itself (no copy, same plan) and records the requirements', () => {
  const query = '{ users { edges { node { email } } } }';
  const decision = authorize(query, admin);
  assert.equal(decision.signature, '');
  assert.equal(decision.removals.size, 0);
  assert.deepEqual(decision.requirements, ['authenticated', 'scopes:admin']);
  assert.equal(labelRefusal('scopes:admin', admin), undefined);
  assert.equal(labelRefusal('scopes:admin', userA), 'FORBIDDEN');
  assert.equal(labelRefusal('authenticated', anonymous), 'UNAUTHENTICATED');
  assert.equal(authorize('mutation { updateProduct(id: "prd_1", input: {}) { id } }', writer).removals.size, 0);
});

test('an emptied selection set keeps a placeholder __typename that the answer drops again', () => {
  const decision = authorize('{ me { email } }', anonymous);
  assert.match(print(decision.document), /_authorizationRemovedAll: __typename/);
  const data = { me: { _authorizationRemovedAll: 'User' } };
  const patched = applyRemovals(data, decision.removals);
  // email is String!: its null moves up to the nullable `me`.
  assert.deepEqual(patched.data, { me: null });
  assert.deepEqual(
    patched.errors.map((e) => [e.path, e.extensions?.code]),
    [[['me', 'email'], 'UNAUTHENTICATED']],
  );
});

test('fragments are filtered once and their removals reported at every place they are spread', () => {
  const decision = authorize(
    `query { a: me { ...Card } b: user(id: "usr_1") { ...Card ... on User { orders { edges { cursor } } } } }
     fragment Card on User { name email }
     fragment Unused on User { email }`,
    anonymous,
  );
  const text = print(decision.document);
  assert.equal(text.match(/fragment Card on User/g)?.length, 1);
  assert.doesNotMatch(text, /email|orders|Unused/);
  assert.equal(decision.removals.get('a')?.children?.get('email')?.removed, 'UNAUTHENTICATED');
  assert.equal(decision.removals.get('b')?.children?.get('email')?.removed, 'UNAUTHENTICATED');
  assert.equal(decision.removals.get('b')?.children?.get('orders')?.removed, 'UNAUTHENTICATED');
});

test('a fragment emptied by the filter disappears with its spreads; a document with nothing left is not planned', () => {
  const decision = authorize(
    'query { users { ...Page } } fragment Page on UserConnection { edges { cursor } }',
    anonymous,
  );
  assert.equal(decision.nothingLeft, true);
  const patched = applyRemovals(undefined, decision.removals);
  // users is UserConnection!: the null reaches `data`.
  assert.equal(patched.data, null);
  assert.deepEqual(patched.errors[0]?.path, ['users']);
  const partial = authorize('{ order(id: "ord_1") { id } products(first: 1) { edges { cursor } } }', anonymous);
  assert.equal(partial.nothingLeft, false);
  assert.deepEqual(applyRemovals({ products: { edges: [] } }, partial.removals).data, {
    products: { edges: [] },
    order: null,
  });
});

// The patched answer must be what GraphQL itself answers when the removed fields fail.
test('nulls move up through non-null fields and list items exactly as graphql-js execution moves them', () => {
  const emailOnly: AccessRules = {
    types: new Map(),
    fields: new Map([['User.email', { authenticated: true, anyOf: [] }]]),
    empty: false,
  };
  const user = (n: number) => ({ id: `usr_${n}`, name: `N${n}`, email: `u${n}@x.io`, createdAt: '2026-01-01' });
  const root = {
    users: { edges: [user(1), user(2)].map((node) => ({ node, cursor: node.id })), pageInfo: { hasNextPage: false } },
    me: user(1),
    user: user(2),
  };
  const queries = [
    '{ users { edges { cursor node { name email } } } me { name } }',
    '{ me { email name } user(id: "usr_2") { name } }',
    'query { a: user(id: "x") { ...E } users { edges { node { ...E } } pageInfo { hasNextPage } } } fragment E on User { email id }',
  ];
  for (const query of queries) {
    const decision = authorize(query, anonymous, emailOnly);
    const filtered = executeSync({ schema, document: decision.document, rootValue: structuredClone(root) });
    const patched = applyRemovals(filtered.data as Record<string, unknown>, decision.removals);
    const failing: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
      if (info.parentType.name === 'User' && info.fieldName === 'email') throw new Error('denied');
      return defaultFieldResolver(source, args, context, info);
    };
    const reference = executeSync({
      schema,
      document: parse(query),
      rootValue: structuredClone(root),
      fieldResolver: failing,
    });
    assert.deepEqual(JSON.parse(JSON.stringify(patched.data)), JSON.parse(JSON.stringify(reference.data)), query);
    assert.deepEqual(
      patched.errors.map((e) => JSON.stringify(e.path)).sort(),
      (reference.errors ?? []).map((e) => JSON.stringify(e.path)).sort(),
      query,
    );
  }
});

test('a cache hit whose entry needs more than the caller has is declined (the full path answers it)', async () => {
  const { useAuthorization } = await import('../../gateway/src/features/authorization');
  const { createContext } = await import('../../gateway/src/context');
  const feature = useAuthorization();
  const principal = (kind: string, scopes: string[]) =>
    ({ kind, scopes, userId: undefined, requestId: 'r', sessionId: undefined, clientIp: '127.0.0.1' }) as never;
  const hit = (p: never, access?: string[]) => ({
    context: createContext(p),
    facts: { operationName: null, operationType: 'query' as const, rootFields: ['Query.users'], access },
    headers: {},
  });
  assert.equal(feature.checkHit!(hit(principal('anonymous', []), ['authenticated', 'scopes:admin'])), false);
  assert.equal(feature.checkHit!(hit(principal('user', []), ['authenticated', 'scopes:admin'])), false);
  assert.equal(feature.checkHit!(hit(principal('user', ['admin']), ['authenticated', 'scopes:admin'])), true);
  assert.equal(feature.checkHit!(hit(principal('anonymous', []), [])), true);
  assert.equal(feature.checkHit!(hit(principal('anonymous', []))), true);
});

test('rules on types and renamed imports are read too, and a field needs both its own rule and its type’s', () => {
  const sdl = `
    schema @link(url: "https://specs.apollo.dev/link/v1.0")
      @link(url: "https://specs.apollo.dev/authenticated/v0.1", as: "signedIn", for: SECURITY)
      @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY) { query: Query }
    directive @signedIn on FIELD_DEFINITION | OBJECT
    directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT
    type Secret @signedIn { value: String }
    type Query { secret: Secret @requiresScopes(scopes: [["a", "b"], ["c"]]) open: String }`;
  const custom = accessRules(sdl);
  assert.deepEqual(custom.types.get('Secret'), { authenticated: true, anyOf: [] });
  assert.deepEqual(custom.fields.get('Query.secret'), { authenticated: true, anyOf: [['a', 'b'], ['c']] });
  assert.equal(custom.fields.has('Query.open'), false);
  assert.doesNotMatch(withEnforcedSecurity(sdl), /SECURITY/);
  assert.equal(withEnforcedSecurity('type Query { a: String }'), 'type Query { a: String }');
  const subject = (scopes: string[]): AccessSubject => ({ authenticated: true, scopes: new Set(scopes) });
  assert.equal(labelRefusal('scopes:a+b|c', subject(['a'])), 'FORBIDDEN');
  assert.equal(labelRefusal('scopes:a+b|c', subject(['a', 'b'])), undefined);
  assert.equal(labelRefusal('scopes:a+b|c', subject(['c'])), undefined);
});
