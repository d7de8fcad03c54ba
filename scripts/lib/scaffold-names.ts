/**
 * Every identifier a scaffolded subgraph uses, derived once from its name, so
 * templates never derive names themselves. Example for `gift-cards`:
 * entity `GiftCard`, table `gift_cards`, fields `giftCard` / `giftCards`.
 */
export interface ScaffoldNames {
  /** Subgraph name as in supergraph.yaml and the folder: `gift-cards`. */
  readonly name: string;
  /** camelCase of the name: `giftCards` (list fields, the definition's export). */
  readonly camel: string;
  /** PascalCase of the name: `GiftCards` (the loaders type). */
  readonly pascal: string;
  /** The entity type: `GiftCard`. */
  readonly entity: string;
  /** The entity in prose, with its article: `a gift card`, `an order`. */
  readonly label: string;
  /** camelCase of the entity: `giftCard` (the by-ID query field). */
  readonly entityCamel: string;
  /** UPPER_SNAKE of the entity: `GIFT_CARD` (the columns constant). */
  readonly entityConstant: string;
  /** Query field listing every entity; the plural name unless that equals the singular. */
  readonly listField: string;
  /** SQL table: `gift_cards`. */
  readonly table: string;
  /** ID prefix: `gif` → IDs `gif_<number>`. */
  readonly prefix: string;
  /** The entity this one belongs to and extends with a list field, if any. */
  readonly parent?: ParentNames;
}

export interface ParentNames {
  /** `Product`. */
  readonly entity: string;
  /** `product` (the field on the new entity, and the input's `productId`). */
  readonly field: string;
  /** In prose, with its article: `a product`, `an order`. */
  readonly label: string;
  /** `product_id`. */
  readonly column: string;
  /** The parent's table, for the existence check: `products`. */
  readonly table: string;
}

/** Entities a scaffolded subgraph may extend: their IDs carry their bucket, so children can live on their shard. */
export const EXTENDABLE_ENTITIES: Readonly<Record<string, string>> = Object.freeze({
  User: 'users',
  Product: 'products',
  Order: 'orders',
});

export const NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Names that are folders, packages or words with a meaning here. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'admin',
  'apollo',
  'bench',
  'common',
  'federation',
  'gateway',
  'graphql',
  'health',
  'internal',
  'k8s',
  'kit',
  'metrics',
  'mutation',
  'node-modules',
  'query',
  'ready',
  'sandbox',
  'schema',
  'scripts',
  'shared',
  'subgraph',
  'subgraphs',
  'subscription',
  'supergraph',
  'test',
  'tests',
]);

const words = (text: string): string[] => text.split(/[-_]/).filter(Boolean);
const capitalize = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);
export const pascalCase = (text: string): string => words(text).map(capitalize).join('');
export const camelCase = (text: string): string => {
  const pascal = pascalCase(text);
  return pascal.charAt(0).toLowerCase() + pascal.slice(1);
};
/** `GiftCard` → `gift_card`. */
export const snakeCase = (pascal: string): string => pascal.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
/** `GiftCard` → `a gift card`, `Order` → `an order`. */
export const prose = (pascal: string): string => {
  const words = snakeCase(pascal).replace(/_/g, ' ');
  return `${/^[aeiou]/.test(words) ? 'an' : 'a'} ${words}`;
};

/** English singular of the last word, good enough for names: reviews → review, categories → category. */
export function singular(name: string): string {
  if (/ies$/.test(name)) return name.replace(/ies$/, 'y');
  if (/(ss|us|is)$/.test(name)) return name;
  if (/(ches|shes|xes|sses)$/.test(name)) return name.replace(/es$/, '');
  return name.replace(/s$/, '');
}

/** Throws with a readable reason when the name cannot be a subgraph. */
export function validateName(name: string): void {
  if (!NAME_PATTERN.test(name) || name.length > 40) {
    throw new Error(
      `"${name}" is not a valid subgraph name: use lowercase letters and digits, words joined by "-", starting with a letter, at most 40 characters (e.g. reviews, gift-cards)`,
    );
  }
  if (RESERVED_NAMES.has(name))
    throw new Error(`"${name}" is reserved (a folder, package or keyword of this repository); pick another name`);
}

export interface NameOptions {
  /** Entity type name; default: PascalCase singular of the name. */
  entity?: string;
  /** ID prefix; default: the entity's first three letters. */
  prefix?: string;
  /** An entity of {@link EXTENDABLE_ENTITIES} to belong to. */
  parent?: string;
}

export function deriveNames(name: string, options: NameOptions = {}): ScaffoldNames {
  validateName(name);
  const entity = options.entity ?? pascalCase(singular(name));
  if (!/^[A-Z][A-Za-z0-9]*$/.test(entity) || entity.startsWith('__'))
    throw new Error(`--entity must be a PascalCase GraphQL type name, got "${entity}"`);
  const prefix =
    options.prefix ??
    entity
      .toLowerCase()
      .replace(/[^a-z]/g, '')
      .slice(0, 3);
  if (!/^[a-z]{2,6}$/.test(prefix)) throw new Error(`--prefix must be 2-6 lowercase letters, got "${prefix}"`);
  const camel = camelCase(name);
  const entityCamel = entity.charAt(0).toLowerCase() + entity.slice(1);
  let parent: ParentNames | undefined;
  if (options.parent !== undefined) {
    const table = EXTENDABLE_ENTITIES[options.parent];
    if (!table)
      throw new Error(
        `--extends must be one of ${Object.keys(EXTENDABLE_ENTITIES).join(', ')}, got "${options.parent}"`,
      );
    if (options.parent === entity) throw new Error(`the entity ${entity} cannot extend itself`);
    const field = options.parent.charAt(0).toLowerCase() + options.parent.slice(1);
    parent = {
      entity: options.parent,
      field,
      label: prose(options.parent),
      column: `${snakeCase(options.parent)}_id`,
      table,
    };
  }
  return {
    name,
    camel,
    pascal: pascalCase(name),
    entity,
    label: prose(entity),
    entityCamel,
    entityConstant: snakeCase(entity).toUpperCase(),
    listField: camel === entityCamel ? `${entityCamel}List` : camel,
    table: name.replace(/-/g, '_'),
    prefix,
    ...(parent ? { parent } : {}),
  };
}
