import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Prng } from './prng';

/** One generated request, sent as is (bytes, headers and all). */
export interface HostileRequest {
  /** Which generator made it, for the report. */
  readonly kind: string;
  readonly method: string;
  /** Path and query string, e.g. `/graphql?query=…`. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Valid documents to mutate: the storefront's trusted documents and the README's example queries. */
export function loadCorpus(): string[] {
  const manifest = JSON.parse(readFileSync(`${root}schema/persisted-queries.json`, 'utf8')) as {
    operations: { body: string }[];
  };
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const examples = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].flatMap(([, block]) =>
    block!
      .split(/\n\s*\n/)
      .map((part) => part.replace(/^#.*$/gm, '').trim())
      .filter((part) => part.startsWith('{') || /^(query|mutation)\b/.test(part)),
  );
  return [...manifest.operations.map((o) => o.body), ...examples];
}

const JSON_TYPE = { 'content-type': 'application/json' };
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const post = (kind: string, body: Buffer, headers: Record<string, string> = JSON_TYPE): HostileRequest => ({
  kind,
  method: 'POST',
  path: '/graphql',
  headers,
  body,
});
const postJson = (kind: string, value: unknown, headers: Record<string, string> = {}): HostileRequest =>
  post(kind, json(value), { ...JSON_TYPE, ...headers });

const TOKENS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  '...',
  '...F',
  '@skip(if: true)',
  '@include(if: $v)',
  '$x',
  ':',
  'a:',
  '"s"',
  '"""b"""',
  '#c\n',
  '!',
  '=',
  '|',
  '&',
  '1e999',
  '-0',
  'null',
  'on Query',
  'fragment F on Query { __typename }',
  'query',
  'mutation',
  'subscription',
  '__schema { types { name } }',
  '\u0000',
  '\u{1F600}',
  '\uFFFF',
  '\\',
  '"',
];

function mutate(prng: Prng, document: string): string {
  let text = document;
  for (let i = prng.int(1, 6); i > 0; i -= 1) {
    const at = prng.int(0, text.length);
    switch (prng.int(0, 4)) {
      case 0:
        text = text.slice(0, at) + text.slice(at + prng.int(1, 20));
        break;
      case 1:
        text = text.slice(0, at) + prng.pick(TOKENS) + text.slice(at);
        break;
      case 2: {
        const from = prng.int(0, text.length);
        text = text.slice(0, at) + text.slice(from, from + prng.int(1, 80)) + text.slice(at);
        break;
      }
      case 3:
        text = text.slice(0, at) + String.fromCharCode(prng.int(0, 0xffff)) + text.slice(at + 1);
        break;
      default:
        text = text.replace(/\b(first|id|quantity)\b/, prng.pick(['first', 'last', 'nope', '__typename', 'a: first']));
    }
  }
  return text;
}

/** A value of no particular type, sometimes large. */
function junk(prng: Prng, depth = 0): unknown {
  switch (prng.int(0, depth > 3 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return prng.int(-(2 ** 31), 2 ** 31) * (prng.chance(0.3) ? 1e10 : 1);
    case 2:
      return prng.next();
    case 3:
      return prng.chance(0.5);
    case 4:
      return 'x'.repeat(prng.int(0, prng.chance(0.1) ? 200_000 : 40));
    case 5:
      return prng.pick(['usr_1', 'prd_4198501793793', 'ord_x', '', '\u0000', 'sha256:abc', '1']);
    case 6:
      return -0;
    case 7:
      return Array.from({ length: prng.int(0, 5) }, () => junk(prng, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: prng.int(0, 5) }, (_, i) => [
          prng.pick(['id', 'first', 'items', 'quantity', 'productId', `k${i}`]),
          junk(prng, depth + 1),
        ]),
      );
  }
}

function variablesFor(prng: Prng, document: string): Record<string, unknown> {
  const names = [...document.matchAll(/\$(\w+)\s*:/g)].map((m) => m[1]!);
  return Object.fromEntries(names.map((name) => [name, junk(prng)]));
}

function fragmentBomb(prng: Prng): string {
  const n = prng.int(20, 60);
  const leaf = prng.pick([
    '__typename',
    'a: __typename',
    'me { id }',
    'products(first: 100) { edges { node { id } } }',
  ]);
  const nested = prng.chance(0.3);
  let text = nested
    ? `query { me { ...F${n} } }\nfragment F0 on User { id }\n`
    : `query { ...F${n} }\nfragment F0 on Query { ${leaf} }\n`;
  for (let i = 1; i <= n; i += 1)
    text += `fragment F${i} on ${nested ? 'User' : 'Query'} { ...F${i - 1} ...F${i - 1} }\n`;
  return text;
}

function fragmentCycle(prng: Prng): string {
  const length = prng.int(1, 50);
  let text = 'query { ...C0 }\n';
  for (let i = 0; i < length; i += 1) text += `fragment C${i} on Query { __typename ...C${(i + 1) % length} }\n`;
  return text;
}

function deepNesting(prng: Prng): string {
  const depth = prng.pick([1000, prng.int(16, 600)]);
  if (prng.chance(0.5)) return `{ ${'me { '.repeat(depth)}id${' }'.repeat(depth)} }`;
  return `{ ${'... on Query { '.repeat(depth)}__typename${' }'.repeat(depth)} }`;
}

function manyAliases(prng: Prng): string {
  const count = prng.pick([10_000, prng.int(31, 650)]);
  return `{ ${Array.from({ length: count }, (_, i) => `a${i}: __typename`).join(' ')} }`;
}

function nested(depth: number, array: boolean): string {
  return array ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function invalidUtf8(prng: Prng, body: Buffer): Buffer {
  const bad = prng.pick([
    [0xff],
    [0xfe, 0xff],
    [0xc0, 0x80],
    [0x80],
    [0xe2, 0x82],
    [0xed, 0xa0, 0x80],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
  ]);
  const at = prng.int(0, body.length);
  return Buffer.concat([body.subarray(0, at), Buffer.from(bad), body.subarray(at)]);
}

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/graphql',
  'application/json; charset=latin1',
  'application/xml',
  '',
  'application/graphql-response+json',
  '*/*',
  'json',
];

function oddGetPath(prng: Prng, document: string): string {
  const params: string[] = [];
  for (let i = prng.int(0, 6); i > 0; i -= 1) {
    switch (prng.int(0, 9)) {
      case 0:
        params.push(`query=${encodeURIComponent(document)}`);
        break;
      case 1:
        params.push(
          `query=${encodeURIComponent(`mutation { placeOrder(input: {idempotencyKey: "g", items: []}) { id } }`)}`,
        );
        break;
      case 2:
        params.push(
          `variables=${encodeURIComponent(prng.pick(['{', '[]', 'null', '"x"', nested(prng.int(60, 5000), true), JSON.stringify(variablesFor(prng, document))]))}`,
        );
        break;
      case 3:
        params.push(
          `extensions=${encodeURIComponent(prng.pick(['{"persistedQuery":{"version":1,"sha256Hash":"abc"}}', '{"persistedQuery":"x"}', '1', '{']))}`,
        );
        break;
      case 4:
        params.push(`operationName=${encodeURIComponent(prng.pick(['', 'A', 'x'.repeat(3000), '{', '[]']))}`);
        break;
      case 5:
        params.push(prng.pick(['%ZZ', '%FF%FE', 'query', '=', '&&&', 'query=%', 'query=%E2%82']));
        break;
      case 6:
        params.push(`documentId=${encodeURIComponent(prng.pick(['sha256:abc', 'sha256:', 'x'.repeat(500), '']))}`);
        break;
      case 7:
        params.push(`query=${encodeURIComponent('{ __typename }')}&query=${encodeURIComponent('{ me { id } }')}`);
        break;
      case 8:
        params.push(`query=${encodeURIComponent(`{ ${'a'.repeat(prng.int(1000, 7000))} }`)}`);
        break;
      default:
        params.push(`${prng.pick(['variables', 'extensions', 'query'])}[]=1`);
    }
  }
  return `/graphql?${params.join('&')}`;
}

const METHODS = ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND'];

/**
 * Makes the `index`-th hostile request of a run. Every generator answers a
 * specific attack of the issue: mutated valid documents, fragment bombs and
 * cycles, deep nesting, many aliases, huge strings, wrong variable types, deep
 * variables, invalid UTF-8, malformed JSON, wrong content types, batches, odd
 * GET parameters, oversized headers, APQ and operation-name mistakes.
 */
export function hostileRequest(prng: Prng, corpus: readonly string[]): HostileRequest {
  const document = prng.pick(corpus);
  const preflight: Record<string, string> = prng.chance(0.7) ? { 'apollo-require-preflight': 'true' } : {};
  switch (prng.int(0, 21)) {
    case 0:
    case 1:
    case 2:
      return postJson('mutated-document', { query: mutate(prng, document), variables: variablesFor(prng, document) });
    case 3:
      return postJson(
        'wrong-variable-types',
        { query: document, variables: variablesFor(prng, document) },
        prng.chance(0.5)
          ? {
              [prng.pick(['x-user-id', 'authorization'])]: prng.pick([
                'usr_4198501793793',
                'Bearer a.b.c',
                'prd_1',
                '',
              ]),
            }
          : {},
      );
    case 4:
      return postJson('fragment-bomb', { query: fragmentBomb(prng) });
    case 5:
      return postJson('fragment-cycle', { query: fragmentCycle(prng) });
    case 6:
      return postJson('deep-nesting', { query: deepNesting(prng) });
    case 7:
      return postJson('many-aliases', { query: manyAliases(prng) });
    case 8: {
      const size = prng.pick([100_000, 500_000, 900_000, 1_100_000]);
      return prng.chance(0.5)
        ? postJson('huge-string', {
            query: `{ products(first: 1, category: "${'b'.repeat(size)}") { edges { cursor } } }`,
          })
        : postJson('huge-string', {
            query: 'query($c: String) { products(first: 1, category: $c) { edges { cursor } } }',
            variables: { c: 'c'.repeat(size) },
            operationName: prng.chance(0.3) ? 'n'.repeat(size / 10) : undefined,
          });
    }
    case 9: {
      const depth = prng.pick([65, 1000, 200_000, prng.int(60, 70)]);
      const body = `{"query":${JSON.stringify(document)},"variables":{"v":${nested(depth, prng.chance(0.5))}}}`;
      return post('deep-variables', Buffer.from(body));
    }
    case 10:
      return post(
        'invalid-utf8',
        invalidUtf8(prng, json({ query: document })),
        prng.pick([JSON_TYPE, { 'content-type': 'text/plain' }]),
      );
    case 11: {
      const valid = JSON.stringify({ query: document, variables: {} });
      const body = prng.pick([
        valid.slice(0, prng.int(0, valid.length - 1)),
        '',
        'null',
        '"x"',
        '123',
        '{"query": }',
        '{{}}',
        valid.replace(':', '='),
      ]);
      return post('malformed-json', Buffer.from(body));
    }
    case 12:
      return post('wrong-content-type', json({ query: document }), {
        'content-type': prng.pick(CONTENT_TYPES),
        ...preflight,
      });
    case 13: {
      const count = prng.int(0, 20);
      const items = Array.from({ length: count }, () => (prng.chance(0.8) ? { query: prng.pick(corpus) } : junk(prng)));
      return postJson('batch', prng.chance(0.1) ? [items] : items);
    }
    case 14:
    case 15:
      return { kind: 'odd-get', method: 'GET', path: oddGetPath(prng, document), headers: { ...preflight } };
    case 16: {
      const headers: Record<string, string> = prng.chance(0.5)
        ? { 'x-big': 'h'.repeat(prng.int(17_000, 64_000)) }
        : Object.fromEntries(
            Array.from({ length: prng.int(100, 400) }, (_, i) => [`x-h${i}`, 'v'.repeat(prng.int(50, 200))]),
          );
      return {
        kind: 'oversized-headers',
        method: 'GET',
        path: `/graphql?query=${encodeURIComponent('{ __typename }')}`,
        headers: { ...headers, ...preflight },
      };
    }
    case 17: {
      const hash = createHash('sha256').update(document).digest('hex');
      const persistedQuery = prng.pick<unknown>([
        { version: 1, sha256Hash: 'f'.repeat(64) },
        { version: 1, sha256Hash: hash.toUpperCase() },
        { version: 2, sha256Hash: hash },
        { version: 1, sha256Hash: 12 },
        { version: 1 },
        'x',
        [],
        null,
      ]);
      return postJson('apq', {
        query: prng.pick([mutate(prng, document), document, undefined]),
        extensions: { persistedQuery },
      });
    }
    case 18:
      return postJson('operation-name', {
        query: prng.pick([
          `${document}\nquery Other { __typename }`,
          'query A { __typename } query B { __typename }',
          document,
          'fragment F on Query { __typename }',
        ]),
        operationName: prng.pick<unknown>([undefined, 'Nope', 'A', '', 3, { a: 1 }, ['A']]),
      });
    case 19:
      return postJson('subscription', {
        query: prng.pick([
          'subscription { __typename }',
          'subscription S { placeOrder }',
          `subscription ${document.replace(/^(query|mutation)\s*/, '')}`,
        ]),
      });
    case 20:
      return {
        kind: 'odd-method',
        method: prng.pick(METHODS),
        path: prng.pick([
          '/graphql',
          '/graphql?query={__typename}',
          '/health',
          '/nope',
          '//graphql',
          '/graphql/../graphql',
        ]),
        headers: JSON_TYPE,
        body: prng.chance(0.5) ? json({ query: document }) : undefined,
      };
    default:
      return postJson(
        'identity-headers',
        { query: document },
        {
          [prng.pick(['x-user-id', 'x-api-key', 'x-forwarded-for', 'authorization'])]: prng.pick([
            'usr_4198501793793',
            '',
            'x'.repeat(prng.int(100, 5000)),
            '\t',
            'usr_1, usr_2',
            '127.0.0.1, 10.0.0.1',
            'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c3JfMSJ9.',
          ]),
        },
      );
  }
}
