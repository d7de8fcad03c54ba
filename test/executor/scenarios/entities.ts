/**
 * Entities across six subgraphs: plain and multiple keys (`User` by id or
 * email), a nested key (`Employee @key(fields: "id org { id }")`), a composite
 * key with a nested selection (`Product @key(fields: "sku variant { id }")`),
 * `@requires` (of a field with arguments and of a nested object, on a field
 * with its own arguments), `@provides`, `@external`, `@shareable` fields
 * resolved from either subgraph, `@override`, custom scalars and enums.
 */
import assert from 'node:assert/strict';
import { exactly, type Scenario, type SubgraphFixture, type Theme } from './harness';

type Row = Record<string, any>;

/** Entities as the gateway sends them to `__resolveReference`. */
type Reference = Record<string, any>;

export const USERS: readonly Row[] = [
  { id: 'u1', email: 'ada@example.com', name: 'Ada', role: 'ADMIN', joined: '2020-01-01T00:00:00Z' },
  { id: 'u2', email: 'grace@example.com', name: 'Grace', role: 'SELLER', joined: '2021-06-15T12:00:00Z' },
  { id: 'u3', email: 'linus@example.com', name: 'Linus', role: 'CUSTOMER', joined: '2022-03-09T08:30:00Z' },
];
const ORGS: readonly Row[] = [
  { id: 'o1', name: 'Analytical Engines' },
  { id: 'o2', name: 'Compilers Inc' },
];
/** `e1` works in both orgs: only the nested key tells the two apart. */
const EMPLOYEES: readonly Row[] = [
  { id: 'e1', org: 'o1', title: 'Engineer', user: 'u1', salary: 100, grade: 'SENIOR' },
  { id: 'e1', org: 'o2', title: 'Advisor', user: 'u2', salary: 40, grade: null },
  { id: 'e2', org: 'o2', title: 'Lead', user: 'u3', salary: 90, grade: 'JUNIOR' },
];
/** `p1` and `p3` share a SKU: only the composite key (`sku variant { id }`) tells them apart. */
export const PRODUCTS: Row[] = [
  {
    upc: 'p1',
    sku: 'LMP',
    variant: { id: 'v1', color: 'RED' },
    name: 'Lamp',
    price: { cents: 1250, currency: 'EUR' },
    kg: 2,
    dimensions: { width: 10, height: 40, depth: 10 },
    tags: [['light', 'desk'], ['sale']],
    seller: 'u2',
    courier: 'linus@example.com',
    released: '2023-01-01T00:00:00Z',
    stock: 7,
    warehouses: [[1, null], null, []],
  },
  {
    upc: 'p2',
    sku: 'CHR',
    variant: { id: 'v2', color: 'BLUE' },
    name: 'Chair',
    price: { cents: 4900, currency: 'EUR' },
    kg: 8,
    dimensions: { width: 50, height: 90, depth: 50 },
    tags: [],
    seller: 'u2',
    courier: 'ada@example.com',
    released: null,
    stock: 0,
    warehouses: [[2, 3]],
  },
  {
    upc: 'p3',
    sku: 'LMP',
    variant: { id: 'v3', color: 'GREEN' },
    name: 'Desk lamp',
    price: { cents: 1990, currency: 'USD' },
    kg: 3,
    dimensions: { width: 12, height: 45, depth: 12 },
    tags: [[], ['new']],
    seller: 'u1',
    courier: 'grace@example.com',
    released: '2024-02-29T00:00:00Z',
    stock: 3,
    warehouses: null,
  },
];
export const REVIEWS: readonly Row[] = [
  { id: 'r1', product: 'p1', author: 'u3', body: 'Bright.', stars: 5 },
  { id: 'r2', product: 'p1', author: 'u2', body: 'Wobbly.', stars: 3 },
  { id: 'r3', product: 'p2', author: 'u3', body: 'Comfy.', stars: 4 },
  { id: 'r4', product: 'p3', author: 'u1', body: 'Too small.', stars: 2 },
];

const byKey = <T extends Row>(rows: readonly T[], key: string, value: unknown) =>
  rows.find((row) => row[key] === value);
const userById = (id: string) => byKey(USERS, 'id', id);
const productByUpc = (upc: string) => byKey(PRODUCTS, 'upc', upc);
const productBySkuVariant = (ref: Reference) =>
  PRODUCTS.find((p) => p.sku === ref.sku && p.variant.id === ref.variant?.id);
const orgById = (id: string) => byKey(ORGS, 'id', id);
const employeeOf = (ref: Reference) => EMPLOYEES.find((e) => e.id === ref.id && e.org === ref.org?.id);
const KG_PER_LB = 0.45359237;

const accounts: SubgraphFixture = {
  name: 'accounts',
  typeDefs: `
    scalar DateTime
    enum Role { ADMIN SELLER CUSTOMER }
    type Query {
      me: User
      user(id: ID!): User
      users(role: Role): [User!]!
      employees: [Employee!]!
    }
    type Mutation { renameUser(id: ID!, name: String!): User }
    type User @key(fields: "id") @key(fields: "email") {
      id: ID!
      email: String!
      name: String! @shareable
      role: Role!
      joined: DateTime!
    }
    type Org @key(fields: "id") { id: ID! name: String! @shareable }
    type Employee @key(fields: "id org { id }") { id: ID! org: Org! title: String! user: User! }
  `,
  resolvers: {
    Query: {
      me: () => USERS[0],
      user: (_: unknown, { id }: { id: string }) => userById(id) ?? null,
      users: (_: unknown, { role }: { role?: string }) => USERS.filter((u) => !role || u.role === role),
      employees: () => EMPLOYEES,
    },
    Mutation: {
      renameUser: (_: unknown, { id, name }: { id: string; name: string }) => {
        const user = userById(id);
        if (user) user.name = name;
        return user ?? null;
      },
    },
    User: {
      __resolveReference: (ref: Reference) => (ref.id ? userById(ref.id) : byKey(USERS, 'email', ref.email)) ?? null,
    },
    Org: { __resolveReference: (ref: Reference) => orgById(ref.id) ?? null },
    Employee: {
      __resolveReference: (ref: Reference) => employeeOf(ref) ?? null,
      org: (e: Row) => orgById(e.org),
      user: (e: Row) => userById(e.user),
    },
  },
};

/** Resolves `Employee` by its nested key; `Org.name` is shareable with accounts. */
const payroll: SubgraphFixture = {
  name: 'payroll',
  typeDefs: `
    enum Grade { JUNIOR SENIOR }
    type Query { payroll(minSalary: Int = 0): [Employee!]! }
    type Employee @key(fields: "id org { id }") { id: ID! org: Org! salary: Int! grade: Grade }
    type Org @key(fields: "id") { id: ID! name: String! @shareable headcount: Int! }
  `,
  resolvers: {
    Query: {
      payroll: (_: unknown, { minSalary }: { minSalary: number }) => EMPLOYEES.filter((e) => e.salary >= minSalary),
    },
    Employee: {
      __resolveReference: (ref: Reference) => employeeOf(ref) ?? null,
      org: (e: Row) => ({ id: e.org, name: `${orgById(e.org)?.name} (payroll)` }),
    },
    Org: {
      __resolveReference: (ref: Reference) => ({ id: ref.id, name: `${orgById(ref.id)?.name} (payroll)` }),
      headcount: (org: Row) => EMPLOYEES.filter((e) => e.org === org.id).length,
    },
  },
};

const catalog: SubgraphFixture = {
  name: 'catalog',
  typeDefs: `
    scalar DateTime
    scalar Money
    enum Color { RED GREEN BLUE }
    enum WeightUnit { KG LB }
    type Query {
      topProducts(first: Int = 5): [Product!]!
      product(upc: String!): Product
    }
    type Mutation { setPrice(upc: String!, cents: Int!): Product }
    type Product @key(fields: "upc") @key(fields: "sku variant { id }") {
      upc: String!
      sku: String!
      variant: Variant!
      name: String! @shareable
      price: Money!
      weight(unit: WeightUnit = KG): Float!
      dimensions: Dimensions!
      tags: [[String!]!]!
      seller: User!
      released: DateTime
      inStock: Boolean!
    }
    type Variant { id: ID! @shareable color: Color! }
    type Dimensions @shareable { width: Float! height: Float! depth: Float! }
    type User @key(fields: "id", resolvable: false) { id: ID! }
  `,
  resolvers: {
    Query: {
      topProducts: (_: unknown, { first }: { first: number }) => PRODUCTS.slice(0, first),
      product: (_: unknown, { upc }: { upc: string }) => productByUpc(upc) ?? null,
    },
    Mutation: {
      setPrice: (_: unknown, { upc, cents }: { upc: string; cents: number }) => {
        const product = productByUpc(upc);
        if (product) product.price = { ...product.price, cents };
        return product ?? null;
      },
    },
    Product: {
      __resolveReference: (ref: Reference) => (ref.upc ? productByUpc(ref.upc) : productBySkuVariant(ref)) ?? null,
      weight: (p: Row, { unit }: { unit: string }) =>
        unit === 'LB' ? Math.round((p.kg / KG_PER_LB) * 100) / 100 : p.kg,
      seller: (p: Row) => ({ id: p.seller }),
      // Overridden by shipping: never asked for through the gateway.
      inStock: () => false,
    },
  },
};

const reviews: SubgraphFixture = {
  name: 'reviews',
  typeDefs: `
    type Query { reviews(minStars: Int = 1): [Review!]! }
    type Review @key(fields: "id") {
      id: ID!
      body: String!
      stars: Int!
      author: User! @provides(fields: "name")
      product: Product!
    }
    type User @key(fields: "id") { id: ID! name: String! @external reviews: [Review!]! }
    type Product @key(fields: "upc") {
      upc: String!
      reviews: [Review!]!
      "Reviews by stars: one row per star count that has reviews, highest first."
      reviewMatrix: [[Review!]!]!
    }
  `,
  resolvers: {
    Query: { reviews: (_: unknown, { minStars }: { minStars: number }) => REVIEWS.filter((r) => r.stars >= minStars) },
    Review: {
      __resolveReference: (ref: Reference) => byKey(REVIEWS, 'id', ref.id) ?? null,
      // The provided name is the reviews subgraph's own copy, tagged so a test sees where it came from.
      author: (r: Row) => ({ id: r.author, name: `${userById(r.author)?.name} (as reviewer)` }),
      product: (r: Row) => ({ upc: r.product }),
    },
    User: { reviews: (u: Reference) => REVIEWS.filter((r) => r.author === u.id) },
    Product: {
      reviews: (p: Reference) => REVIEWS.filter((r) => r.product === p.upc),
      reviewMatrix: (p: Reference) => {
        const own = REVIEWS.filter((r) => r.product === p.upc);
        const stars = [...new Set(own.map((r) => r.stars))].sort((a, b) => b - a);
        return stars.map((s) => own.filter((r) => r.stars === s));
      },
    },
  },
};

/** Requires the product's weight (a field with arguments) and part of its dimensions; takes `inStock` over. */
const shipping: SubgraphFixture = {
  name: 'shipping',
  typeDefs: `
    enum WeightUnit { KG LB }
    type Product @key(fields: "upc") {
      upc: String!
      weight(unit: WeightUnit = KG): Float! @external
      dimensions: Dimensions! @external
      shippingEstimate(express: Boolean = false): Int! @requires(fields: "weight dimensions { width height }")
      inStock: Boolean! @override(from: "catalog")
      courier: User
    }
    type Dimensions @shareable { width: Float! height: Float! }
    type User @key(fields: "email", resolvable: false) { email: String! }
  `,
  resolvers: {
    Product: {
      __resolveReference: (ref: Reference) => ({ ...ref, ...productByUpc(ref.upc), required: ref }),
      shippingEstimate: (p: Row, { express }: { express: boolean }) => {
        const { weight, dimensions } = p.required as Reference;
        assert.equal(typeof weight, 'number', 'the gateway sent the required weight');
        const base = Math.round(weight * 3 + (dimensions.width * dimensions.height) / 100);
        return express ? base * 2 : base;
      },
      inStock: (p: Row) => p.stock > 0,
      courier: (p: Row) => ({ email: p.courier }),
    },
  },
};

/** Knows products only by the composite key with a nested selection. */
const inventory: SubgraphFixture = {
  name: 'inventory',
  typeDefs: `
    type Product @key(fields: "sku variant { id }") {
      sku: String!
      variant: Variant!
      stock: Int!
      warehouses: [[Int]]
    }
    type Variant { id: ID! @shareable }
  `,
  resolvers: {
    Product: { __resolveReference: (ref: Reference) => productBySkuVariant(ref) ?? null },
  },
};

/** Requires a field that is itself computed from requirements (shippingEstimate) and a list of objects (reviews). */
const insurance: SubgraphFixture = {
  name: 'insurance',
  typeDefs: `
    type Product @key(fields: "upc") {
      upc: String!
      shippingEstimate(express: Boolean = false): Int! @external
      reviews: [Review!]! @external
      premium: Int! @requires(fields: "shippingEstimate reviews { stars }")
    }
    type Review @key(fields: "id", resolvable: false) { id: ID! stars: Int! @external }
  `,
  resolvers: {
    Product: {
      premium: (p: Reference) =>
        p.shippingEstimate + (p.reviews as Array<{ stars: number }>).reduce((sum, r) => sum + (5 - r.stars), 0),
    },
  },
};

export const entitySubgraphs: readonly SubgraphFixture[] = [
  accounts,
  payroll,
  catalog,
  reviews,
  shipping,
  inventory,
  insurance,
];

const scenarios: Scenario[] = [
  {
    name: 'follows entities over four hops: reviews → catalog → shipping (requires) → accounts → reviews',
    query: `{
      reviews(minStars: 4) {
        id stars
        product {
          name shippingEstimate
          seller { name email reviews { body product { upc } } }
        }
      }
    }`,
    check: exactly({
      reviews: [
        {
          id: 'r1',
          stars: 5,
          product: {
            name: 'Lamp',
            shippingEstimate: 10,
            seller: {
              name: 'Grace',
              email: 'grace@example.com',
              reviews: [{ body: 'Wobbly.', product: { upc: 'p1' } }],
            },
          },
        },
        {
          id: 'r3',
          stars: 4,
          product: {
            name: 'Chair',
            shippingEstimate: 69,
            seller: {
              name: 'Grace',
              email: 'grace@example.com',
              reviews: [{ body: 'Wobbly.', product: { upc: 'p1' } }],
            },
          },
        },
      ],
    }),
  },
  {
    name: 'resolves an entity by a nested key (id org { id }) that tells apart two employees with the same id',
    query: `{ employees { id title org { id name headcount } salary grade user { name } } }`,
    check: exactly({
      employees: [
        {
          id: 'e1',
          title: 'Engineer',
          org: { id: 'o1', name: 'Analytical Engines', headcount: 1 },
          salary: 100,
          grade: 'SENIOR',
          user: { name: 'Ada' },
        },
        {
          id: 'e1',
          title: 'Advisor',
          org: { id: 'o2', name: 'Compilers Inc', headcount: 2 },
          salary: 40,
          grade: null,
          user: { name: 'Grace' },
        },
        {
          id: 'e2',
          title: 'Lead',
          org: { id: 'o2', name: 'Compilers Inc', headcount: 2 },
          salary: 90,
          grade: 'JUNIOR',
          user: { name: 'Linus' },
        },
      ],
    }),
  },
  {
    name: 'resolves a shareable field from the subgraph the plan is already in (payroll), then goes back by the nested key',
    query: `{ payroll(minSalary: 50) { salary org { name } title } }`,
    check: exactly({
      payroll: [
        { salary: 100, org: { name: 'Analytical Engines (payroll)' }, title: 'Engineer' },
        { salary: 90, org: { name: 'Compilers Inc (payroll)' }, title: 'Lead' },
      ],
    }),
  },
  {
    name: 'resolves products by a composite key with a nested selection (sku variant { id }) that shares a sku',
    query: `{ topProducts { upc sku variant { id color } stock warehouses } }`,
    check: exactly({
      topProducts: [
        { upc: 'p1', sku: 'LMP', variant: { id: 'v1', color: 'RED' }, stock: 7, warehouses: [[1, null], null, []] },
        { upc: 'p2', sku: 'CHR', variant: { id: 'v2', color: 'BLUE' }, stock: 0, warehouses: [[2, 3]] },
        { upc: 'p3', sku: 'LMP', variant: { id: 'v3', color: 'GREEN' }, stock: 3, warehouses: null },
      ],
    }),
  },
  {
    name: 'goes from the composite-key subgraph back to the upc-key subgraphs (inventory between catalog and shipping)',
    query: `{ product(upc: "p3") { stock inStock shippingEstimate(express: true) reviews { stars author { id } } } }`,
    check: exactly({
      product: { stock: 3, inStock: true, shippingEstimate: 28, reviews: [{ stars: 2, author: { id: 'u1' } }] },
    }),
  },
  {
    name: 'requires a field with arguments and a nested object, with and without the requiring field’s own argument',
    query: `{
      topProducts(first: 2) {
        upc
        normal: shippingEstimate
        fast: shippingEstimate(express: true)
        kg: weight
        lb: weight(unit: LB)
        dimensions { width }
      }
    }`,
    check: exactly({
      topProducts: [
        { upc: 'p1', normal: 10, fast: 20, kg: 2, lb: 4.41, dimensions: { width: 10 } },
        { upc: 'p2', normal: 69, fast: 138, kg: 8, lb: 17.64, dimensions: { width: 50 } },
      ],
    }),
  },
  {
    name: 'chains requirements over five subgraphs: a field requiring a field that is itself computed from requirements',
    query: `{ topProducts { upc premium } reviews(minStars: 4) { product { premium shippingEstimate(express: true) } } }`,
    check: exactly({
      topProducts: [
        { upc: 'p1', premium: 12 },
        { upc: 'p2', premium: 70 },
        { upc: 'p3', premium: 17 },
      ],
      // 10 and 69, not 20 and 138: Apollo's planner 2.14 fetches the required `shippingEstimate` (no
      // argument) under the same response name as the client's `shippingEstimate(express: true)` and
      // drops the argument; both executors run that plan.
      reviews: [{ product: { premium: 12, shippingEstimate: 10 } }, { product: { premium: 70, shippingEstimate: 69 } }],
    }),
  },
  {
    name: 'takes a provided field from the providing subgraph and other fields of the same entity from its owner',
    query: `{ reviews(minStars: 5) { author { name } } more: reviews(minStars: 5) { author { name email role joined } } }`,
    check: (body) => {
      assert.deepEqual(body.data?.reviews, [{ author: { name: 'Linus (as reviewer)' } }]);
      assert.equal(body.data?.more[0].author.email, 'linus@example.com');
      assert.equal(body.data?.more[0].author.role, 'CUSTOMER');
      assert.equal(body.data?.more[0].author.joined, '2022-03-09T08:30:00Z');
      assert.equal(body.errors, undefined);
    },
  },
  {
    name: 'resolves a user by its second key (email) from an @external-only reference',
    query: `{ topProducts { name courier { email name role } } }`,
    check: exactly({
      topProducts: [
        { name: 'Lamp', courier: { email: 'linus@example.com', name: 'Linus', role: 'CUSTOMER' } },
        { name: 'Chair', courier: { email: 'ada@example.com', name: 'Ada', role: 'ADMIN' } },
        { name: 'Desk lamp', courier: { email: 'grace@example.com', name: 'Grace', role: 'SELLER' } },
      ],
    }),
  },
  {
    name: 'answers an overridden field from the subgraph that took it over',
    query: `{ topProducts { upc inStock } }`,
    check: exactly({
      topProducts: [
        { upc: 'p1', inStock: true },
        { upc: 'p2', inStock: false },
        { upc: 'p3', inStock: true },
      ],
    }),
  },
  {
    name: 'passes custom scalars (an object-valued Money, DateTime, null) and enums through unchanged',
    query: `{ topProducts { price released variant { color } seller { id } } me { role joined } }`,
    check: exactly({
      topProducts: [
        {
          price: { cents: 1250, currency: 'EUR' },
          released: '2023-01-01T00:00:00Z',
          variant: { color: 'RED' },
          seller: { id: 'u2' },
        },
        { price: { cents: 4900, currency: 'EUR' }, released: null, variant: { color: 'BLUE' }, seller: { id: 'u2' } },
        {
          price: { cents: 1990, currency: 'USD' },
          released: '2024-02-29T00:00:00Z',
          variant: { color: 'GREEN' },
          seller: { id: 'u1' },
        },
      ],
      me: { role: 'ADMIN', joined: '2020-01-01T00:00:00Z' },
    }),
  },
  {
    name: 'shapes lists of lists: of strings ([[String!]!]!), of nullable ints with null rows, and of entities across subgraphs',
    query: `{
      product(upc: "p1") {
        tags
        warehouses
        reviewMatrix { id stars author { email } product { name } }
      }
    }`,
    check: exactly({
      product: {
        tags: [['light', 'desk'], ['sale']],
        warehouses: [[1, null], null, []],
        reviewMatrix: [
          [{ id: 'r1', stars: 5, author: { email: 'linus@example.com' }, product: { name: 'Lamp' } }],
          [{ id: 'r2', stars: 3, author: { email: 'grace@example.com' }, product: { name: 'Lamp' } }],
        ],
      },
    }),
  },
];

export const entities: Theme = { subgraphs: entitySubgraphs, scenarios };
