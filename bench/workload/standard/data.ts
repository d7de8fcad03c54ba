/**
 * The data of the standard workload (`shared/workloads/federation-benchmark.md`).
 * Every value the query can reach is fixed here, so every run and every
 * target sees byte-identical subgraph answers.
 */

export interface User {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly birthday: number;
}

export interface Product {
  readonly upc: string;
  readonly name: string;
  readonly price: number;
  readonly weight: number;
}

export interface Review {
  readonly id: string;
  readonly body: string;
  readonly productUpc: string;
}

const BIRTHDAY = 1234567890;

export const USERS: readonly User[] = Object.freeze(
  (
    [
      ['urigo', 'Uri Goldshtein'],
      ['dotansimha', 'Dotan Simha'],
      ['kamilkisiela', 'Kamil Kisiela'],
      ['ardatan', 'Arda Tanrikulu'],
      ['gilgardosh', 'Gil Gardosh'],
      ['laurin', 'Laurin Quast'],
    ] as const
  ).map(([username, name], i) => Object.freeze({ id: String(i + 1), username, name, birthday: BIRTHDAY })),
);

export const PRODUCTS: readonly Product[] = Object.freeze(
  (
    [
      ['Table', 899, 100],
      ['Couch', 1299, 1000],
      ['Glass', 15, 20],
      ['Chair', 499, 100],
      ['TV', 1299, 1000],
      ['Lamp', 6999, 300],
      ['Grill', 3999, 2000],
      ['Fridge', 100000, 6000],
      ['Sofa', 9999, 800],
    ] as const
  ).map(([name, price, weight], i) => Object.freeze({ upc: String(i + 1), name, price, weight })),
);

/** inStock of upc 1–9. */
export const IN_STOCK: Readonly<Record<string, boolean>> = Object.freeze(
  Object.fromEntries(
    [true, false, false, false, true, true, true, false, true].map((inStock, i) => [String(i + 1), inStock]),
  ),
);

const WORDS = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ' +
  'enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure in ' +
  'reprehenderit voluptate velit esse cillum eu fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa ' +
  'qui officia deserunt mollit anim id est laborum'
).split(' ');

/**
 * Deterministic lorem ipsum of exactly `length` ASCII characters: words from
 * `WORDS` starting at `offset`, a capital first letter and a final full stop.
 * The lengths are those of the published subgraphs' bodies, so the response
 * has the published size (about 87.6 KB).
 */
export function loremIpsum(length: number, offset: number): string {
  let text = '';
  for (let i = offset; text.length < length; i++) text += (text ? ' ' : '') + WORDS[i % WORDS.length];
  text = text.slice(0, length - 1).trimEnd();
  text = text.padEnd(length - 1, 'x');
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

/** Review id → [body length, product upc]: reviews 1–4 → product 1, 5–8 → 2, 9 → 3, 10–11 → 4. */
const REVIEW_SHAPES: ReadonlyArray<readonly [number, string]> = [
  [445, '1'],
  [289, '1'],
  [275, '1'],
  [143, '1'],
  [445, '2'],
  [289, '2'],
  [275, '2'],
  [143, '2'],
  [143, '3'],
  [143, '4'],
  [844, '4'],
];

export const REVIEWS: readonly Review[] = Object.freeze(
  REVIEW_SHAPES.map(([length, productUpc], i) =>
    Object.freeze({ id: String(i + 1), body: loremIpsum(length, i * 7), productUpc }),
  ),
);

/** Every author is user 1 as the reviews subgraph knows it: username "urigo", reviews 1 and 2. */
export const AUTHOR_ID = '1';
export const AUTHOR_USERNAME = 'urigo';
/** The username the reviews subgraph gives any other User entity. */
export const OTHER_USERNAME = 'user';
/** The reviews every User has in the reviews subgraph. */
export const USER_REVIEW_IDS: readonly string[] = Object.freeze(['1', '2']);
