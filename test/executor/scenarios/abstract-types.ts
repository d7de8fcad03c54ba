/**
 * Abstract types across subgraphs: an entity interface (`Media`) whose
 * implementations live in `media` and which `ratings` extends as an
 * `@interfaceObject`; a union (`SearchResult`) and an interface (`Node`) in
 * `search` whose members are resolved by `media`, `people` and `search`
 * itself. Queried with inline fragments, named fragments (nested, on
 * interfaces inside unions) and `__typename` at every level.
 */
import assert from 'node:assert/strict';
import { GraphQLError } from 'graphql';
import { errorPaths, exactly, type Scenario, type SubgraphFixture, type Theme } from './harness';

type Row = Record<string, any>;

const MEDIA: readonly Row[] = [
  { __typename: 'Book', id: 'm1', title: 'Dune', author: 'Herbert', pages: 412 },
  { __typename: 'Movie', id: 'm2', title: 'Alien', minutes: 117 },
  { __typename: 'Book', id: 'm3', title: 'Solaris', author: 'Lem', pages: 204 },
];
const RATINGS: Readonly<Record<string, { rating: number; critics: string[] }>> = {
  m1: { rating: 4.5, critics: ['Kael', 'Ebert'] },
  m2: { rating: 4.8, critics: ['Ebert'] },
  m3: { rating: 4.1, critics: [] },
  // Rated, but the media subgraph fails to resolve it (its concrete type stays unknown).
  m4: { rating: 1, critics: [] },
};
const PEOPLE: readonly Row[] = [
  { id: 'h1', name: 'Frank', born: 1920 },
  { id: 'h2', name: 'Stanisław', born: 1921 },
];
const PODCASTS: readonly Row[] = [{ __typename: 'Podcast', id: 'c1', host: 'Sagan', episodes: [[1, 2], [3]] }];

const mediaById = (id: string) => MEDIA.find((m) => m.id === id);

const media: SubgraphFixture = {
  name: 'media',
  typeDefs: `
    interface Media @key(fields: "id") { id: ID! title: String! }
    type Book implements Media @key(fields: "id") { id: ID! title: String! author: String! pages: Int! }
    type Movie implements Media @key(fields: "id") { id: ID! title: String! minutes: Int! }
    type Query { media: [Media!]! mediaItem(id: ID!): Media }
  `,
  resolvers: {
    Query: { media: () => MEDIA, mediaItem: (_: unknown, { id }: { id: string }) => mediaById(id) ?? null },
    Media: {
      __resolveReference: async (ref: Row) => {
        if (ref.id === 'm4') throw new GraphQLError('m4 is withdrawn');
        return mediaById(ref.id) ?? null;
      },
      __resolveType: (m: Row) => m.__typename,
    },
    Book: { __resolveReference: (ref: Row) => mediaById(ref.id) ?? null },
    Movie: { __resolveReference: (ref: Row) => mediaById(ref.id) ?? null },
  },
};

const ratings: SubgraphFixture = {
  name: 'ratings',
  typeDefs: `
    type Media @key(fields: "id") @interfaceObject {
      id: ID!
      rating: Float!
      critics: [Critic!]!
      "Other media with a rating within 0.5: known here only as the interface."
      similar: [Media!]!
    }
    type Critic { name: String! }
    type Query { topRated(first: Int! = 2): [Media!]! }
  `,
  resolvers: {
    Query: {
      topRated: (_: unknown, { first }: { first: number }) =>
        Object.keys(RATINGS)
          .sort((a, b) => RATINGS[b].rating - RATINGS[a].rating)
          .slice(0, first)
          .map((id) => ({ id })),
    },
    Media: {
      __resolveReference: (ref: Row) => (RATINGS[ref.id] ? { id: ref.id } : null),
      rating: (m: Row) => RATINGS[m.id].rating,
      critics: (m: Row) => RATINGS[m.id].critics.map((name) => ({ name })),
      similar: (m: Row) =>
        Object.keys(RATINGS)
          .filter((id) => id !== m.id && Math.abs(RATINGS[id].rating - RATINGS[m.id].rating) <= 0.5)
          .map((id) => ({ id })),
    },
  },
};

const people: SubgraphFixture = {
  name: 'people',
  typeDefs: `
    type Person @key(fields: "id") { id: ID! name: String! born: Int! }
  `,
  resolvers: { Person: { __resolveReference: (ref: Row) => PEOPLE.find((p) => p.id === ref.id) ?? null } },
};

const search: SubgraphFixture = {
  name: 'search',
  typeDefs: `
    interface Node { id: ID! }
    union SearchResult = Book | Podcast | Person
    type Book implements Node @key(fields: "id") { id: ID! }
    type Person implements Node @key(fields: "id") { id: ID! }
    type Podcast implements Node { id: ID! host: String! episodes: [[Int!]!]! }
    type Query { search(term: String!): [SearchResult!]! nodes(ids: [ID!]!): [Node]! }
  `,
  resolvers: {
    Query: {
      search: (_: unknown, { term }: { term: string }) =>
        term === 'everything'
          ? [
              { __typename: 'Book', id: 'm3' },
              PODCASTS[0],
              { __typename: 'Person', id: 'h2' },
              { __typename: 'Book', id: 'm1' },
            ]
          : [],
      nodes: (_: unknown, { ids }: { ids: string[] }) =>
        ids.map((id) =>
          id.startsWith('m')
            ? { __typename: 'Book', id }
            : id.startsWith('h')
              ? { __typename: 'Person', id }
              : (PODCASTS.find((p) => p.id === id) ?? null),
        ),
    },
    SearchResult: { __resolveType: (r: Row) => r.__typename },
    Node: { __resolveType: (r: Row) => r.__typename },
  },
};

export const abstractTypeSubgraphs: readonly SubgraphFixture[] = [media, ratings, people, search];

const scenarios: Scenario[] = [
  {
    name: 'resolves an entity interface’s implementations with inline fragments and __typename at every level',
    query: `{
      __typename
      media {
        __typename id title
        ... on Book { __typename author pages }
        ... on Movie { minutes }
      }
    }`,
    check: exactly({
      __typename: 'Query',
      media: [
        { __typename: 'Book', id: 'm1', title: 'Dune', author: 'Herbert', pages: 412 },
        { __typename: 'Movie', id: 'm2', title: 'Alien', minutes: 117 },
        { __typename: 'Book', id: 'm3', title: 'Solaris', author: 'Lem', pages: 204 },
      ],
    }),
  },
  {
    name: 'adds @interfaceObject fields (rating, critics) to every implementation of the interface',
    query: `{ media { id rating critics { __typename name } ... on Movie { minutes } } }`,
    check: exactly({
      media: [
        {
          id: 'm1',
          rating: 4.5,
          critics: [
            { __typename: 'Critic', name: 'Kael' },
            { __typename: 'Critic', name: 'Ebert' },
          ],
        },
        { id: 'm2', rating: 4.8, critics: [{ __typename: 'Critic', name: 'Ebert' }], minutes: 117 },
        { id: 'm3', rating: 4.1, critics: [] },
      ],
    }),
  },
  {
    name: 'starts at an @interfaceObject root field and asks the owning subgraph for __typename and concrete fields',
    query: `{ topRated(first: 3) { __typename id rating title ... on Book { author } ... on Movie { minutes } } }`,
    check: exactly({
      topRated: [
        { __typename: 'Movie', id: 'm2', rating: 4.8, title: 'Alien', minutes: 117 },
        { __typename: 'Book', id: 'm1', rating: 4.5, title: 'Dune', author: 'Herbert' },
        { __typename: 'Book', id: 'm3', rating: 4.1, title: 'Solaris', author: 'Lem' },
      ],
    }),
  },
  {
    name: 'nulls an @interfaceObject entity whose concrete type its owner failed to give, up to data through [Media!]!',
    query: `{ topRated(first: 4) { __typename id rating } }`,
    check: (body) => {
      assert.equal(body.data, null);
      assert.deepEqual(
        body.errors?.map((e) => [e.message, e.path, e.extensions?.serviceName]),
        [['m4 is withdrawn', ['topRated', 3], 'media']],
      );
    },
  },
  {
    name: 'keeps an @interfaceObject entity of unknown concrete type when no concrete field or __typename is asked',
    query: `{ topRated(first: 4) { id ... on Book { title } } }`,
    check: (body) => {
      assert.deepEqual(body.data, {
        topRated: [{ id: 'm2' }, { id: 'm1', title: 'Dune' }, { id: 'm3', title: 'Solaris' }, { id: 'm4' }],
      });
      assert.deepEqual(errorPaths(body), [JSON.stringify(['topRated', 3])]);
    },
  },
  {
    name: 'resolves the concrete types of @interfaceObject lists nested in one another, with aliased __typename',
    query: `{ media { id similar { __typename id title ... on Book { author } s: similar { t: __typename id } } } }`,
    check: exactly({
      media: [
        {
          id: 'm1',
          similar: [
            { __typename: 'Movie', id: 'm2', title: 'Alien', s: [{ t: 'Book', id: 'm1' }] },
            { __typename: 'Book', id: 'm3', title: 'Solaris', author: 'Lem', s: [{ t: 'Book', id: 'm1' }] },
          ],
        },
        {
          id: 'm2',
          similar: [
            {
              __typename: 'Book',
              id: 'm1',
              title: 'Dune',
              author: 'Herbert',
              s: [
                { t: 'Movie', id: 'm2' },
                { t: 'Book', id: 'm3' },
              ],
            },
          ],
        },
        {
          id: 'm3',
          similar: [
            {
              __typename: 'Book',
              id: 'm1',
              title: 'Dune',
              author: 'Herbert',
              s: [
                { t: 'Movie', id: 'm2' },
                { t: 'Book', id: 'm3' },
              ],
            },
          ],
        },
      ],
    }),
  },
  {
    name: 'resolves a union whose members live in three subgraphs through named fragments, one of them on an interface',
    query: `
      query Search($term: String!) {
        search(term: $term) { __typename ...BookCard ...Podcast ... on Person { ...PersonCard } ...Titled }
      }
      fragment BookCard on Book { id author rating }
      fragment Podcast on Podcast { id host episodes }
      fragment PersonCard on Person { __typename name born }
      fragment Titled on Media { __typename title }
    `,
    variables: { term: 'everything' },
    check: exactly({
      search: [
        { __typename: 'Book', id: 'm3', author: 'Lem', rating: 4.1, title: 'Solaris' },
        { __typename: 'Podcast', id: 'c1', host: 'Sagan', episodes: [[1, 2], [3]] },
        { __typename: 'Person', name: 'Stanisław', born: 1921 },
        { __typename: 'Book', id: 'm1', author: 'Herbert', rating: 4.5, title: 'Dune' },
      ],
    }),
  },
  {
    name: 'resolves an interface list with a null element whose implementations live in different subgraphs',
    query: `{
      nodes(ids: ["h1", "zz", "m1", "c1"]) {
        __typename id
        ... on Person { name }
        ... on Book { title critics { name } }
        ... on Podcast { host }
      }
    }`,
    check: exactly({
      nodes: [
        { __typename: 'Person', id: 'h1', name: 'Frank' },
        null,
        { __typename: 'Book', id: 'm1', title: 'Dune', critics: [{ name: 'Kael' }, { name: 'Ebert' }] },
        { __typename: 'Podcast', id: 'c1', host: 'Sagan' },
      ],
    }),
  },
  {
    name: 'answers fragments on interfaces that only some union members implement, and an empty list',
    query: `{ none: search(term: "nothing") { __typename } some: search(term: "everything") { ... on Media { title } ... on Node { id } } }`,
    check: (body) => {
      assert.deepEqual(body.data?.none, []);
      assert.deepEqual(body.data?.some, [
        { title: 'Solaris', id: 'm3' },
        { id: 'c1' },
        { id: 'h2' },
        { title: 'Dune', id: 'm1' },
      ]);
    },
  },
  {
    name: 'orders fields of repeated fragments on the same implementation or interface as one merged fragment',
    query: `{
      media { ... on Book { title } id ... on Book { author } }
      search(term: "everything") { ... on Media { title } __typename ... on Media { id } }
    }`,
    // Apollo's normalized operation merges the two fragments on Book (and on Media) where the first stands.
    check: (body) =>
      assert.equal(
        JSON.stringify(body.data),
        JSON.stringify({
          media: [
            { title: 'Dune', author: 'Herbert', id: 'm1' },
            { id: 'm2' },
            { title: 'Solaris', author: 'Lem', id: 'm3' },
          ],
          search: [
            { title: 'Solaris', id: 'm3', __typename: 'Book' },
            { __typename: 'Podcast' },
            { __typename: 'Person' },
            { title: 'Dune', id: 'm1', __typename: 'Book' },
          ],
        }),
      ),
  },
  {
    name: 'resolves a single interface entity by id, with a fragment spread on the interface inside one on the object',
    query: `
      { a: mediaItem(id: "m2") { ...Full } b: mediaItem(id: "missing") { ...Full } }
      fragment Full on Media { __typename ... on Movie { ...Base minutes } }
      fragment Base on Media { id title rating }
    `,
    check: exactly({
      a: { __typename: 'Movie', id: 'm2', title: 'Alien', rating: 4.8, minutes: 117 },
      b: null,
    }),
  },
];

export const abstractTypes: Theme = { subgraphs: abstractTypeSubgraphs, scenarios };
