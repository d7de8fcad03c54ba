import { ConfigError, intVar, stringVar, type Env } from '@commerce/common';

/** Shape limits checked on every operation before it is planned; 0 turns one off. */
export interface OperationLimits {
  /** `MAX_QUERY_DEPTH`: deepest field nesting, fragments expanded. Default 15. */
  readonly maxDepth: number;
  /** `MAX_ALIASES`: aliased fields, fragments expanded. Default 30. */
  readonly maxAliases: number;
  /** `MAX_ROOT_FIELDS`: fields selected at the root of the operation. Default 20. */
  readonly maxRootFields: number;
  /** `MAX_SELECTIONS`: field selections in the operation, fragments expanded (each spread counts its fragment again). Default 5000. */
  readonly maxSelections: number;
  /** `MAX_DIRECTIVES`: directive applications in the operation, fragments expanded. Default 50. */
  readonly maxDirectives: number;
  /** `MAX_TOKENS`: lexical tokens in the document. Default 2000. */
  readonly maxTokens: number;
}

export const OPERATION_LIMIT_DEFAULTS: OperationLimits = Object.freeze({
  maxDepth: 15,
  maxAliases: 30,
  maxRootFields: 20,
  maxDirectives: 50,
  maxSelections: 5000,
  maxTokens: 2000,
});

/** Reads the operation limits; throws ConfigError naming the variable on a bad value. */
export function loadOperationLimits(env: Env): OperationLimits {
  const d = OPERATION_LIMIT_DEFAULTS;
  return Object.freeze({
    maxDepth: intVar(env, 'MAX_QUERY_DEPTH', d.maxDepth, { min: 0, max: 1000 }),
    maxAliases: intVar(env, 'MAX_ALIASES', d.maxAliases, { min: 0, max: 100_000 }),
    maxRootFields: intVar(env, 'MAX_ROOT_FIELDS', d.maxRootFields, { min: 0, max: 100_000 }),
    maxDirectives: intVar(env, 'MAX_DIRECTIVES', d.maxDirectives, { min: 0, max: 100_000 }),
    maxSelections: intVar(env, 'MAX_SELECTIONS', d.maxSelections, { min: 0, max: 10_000_000 }),
    maxTokens: intVar(env, 'MAX_TOKENS', d.maxTokens, { min: 0, max: 10_000_000 }),
  });
}

/** Who a field limit counts calls for: the principal (user, else API key, else IP) or the client IP. */
export type FieldLimitIdentity = 'principal' | 'ip';

/** At most `max` calls of a root field per `window` per identity (graphql-rate-limit). */
export interface FieldRateLimit {
  /** Root type, e.g. `Mutation`. */
  readonly typeName: string;
  readonly fieldName: string;
  readonly max: number;
  /** As written, for graphql-rate-limit (`ms` syntax: `60s`, `1m`, `1h`). */
  readonly window: string;
  readonly windowMs: number;
  readonly identity: FieldLimitIdentity;
}

export const FIELD_RATE_LIMITS_DEFAULT = 'Mutation.placeOrder=30/1m@principal,Mutation.createUser=10/1m@ip';

const FIELD_LIMIT = /^([A-Za-z_]\w*)\.([A-Za-z_]\w*)=(\d+)\/(\d+)(ms|s|m|h)@(principal|ip)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * Parses `FIELD_RATE_LIMITS`: `Type.field=<max>/<window>@<principal|ip>,…`,
 * e.g. `Mutation.placeOrder=30/1m@principal`; `none` for no field limits.
 */
export function loadFieldRateLimits(env: Env): readonly FieldRateLimit[] {
  const raw = stringVar(env, 'FIELD_RATE_LIMITS', FIELD_RATE_LIMITS_DEFAULT).trim();
  if (raw === 'none') return Object.freeze([]);
  const limits: FieldRateLimit[] = [];
  for (const entry of raw.split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const match = FIELD_LIMIT.exec(trimmed);
    if (!match)
      throw new ConfigError(
        `FIELD_RATE_LIMITS entries must look like Mutation.placeOrder=30/1m@principal (units ms, s, m, h; identity principal or ip), got ${JSON.stringify(trimmed)}`,
      );
    const [, typeName, fieldName, max, amount, unit, identity] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
      keyof typeof UNIT_MS,
      FieldLimitIdentity,
    ];
    if (limits.some((l) => l.typeName === typeName && l.fieldName === fieldName))
      throw new ConfigError(`FIELD_RATE_LIMITS names ${typeName}.${fieldName} twice`);
    const windowMs = Number(amount) * UNIT_MS[unit];
    if (Number(max) < 1 || windowMs < 1)
      throw new ConfigError(`FIELD_RATE_LIMITS needs a max and a window above 0, got ${JSON.stringify(trimmed)}`);
    limits.push(
      Object.freeze({ typeName, fieldName, max: Number(max), window: `${amount}${unit}`, windowMs, identity }),
    );
  }
  return Object.freeze(limits);
}
