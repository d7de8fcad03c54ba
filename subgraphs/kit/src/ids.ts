import { badUserInput } from '@commerce/common';

/**
 * 63-bit IDs in the style of Instagram's: milliseconds since our epoch (41
 * bits) | bucket (10 bits) | sequence (12 bits). The bucket routes the row to
 * a shard by pure computation. Exposed to GraphQL as `<prefix>_<decimal>`,
 * the prefix naming the entity type so an ID of the wrong type is rejected.
 */
export const EPOCH_MS = 1_704_067_200_000n; // 2024-01-01T00:00:00Z
export const BUCKET_BITS = 10n;
export const SEQUENCE_BITS = 12n;
export const BUCKET_COUNT = 1 << Number(BUCKET_BITS);
const MAX_SEQUENCE = (1n << SEQUENCE_BITS) - 1n;
const MAX_TIME = (1n << 41n) - 1n;

export const ENTITY_PREFIXES = { User: 'usr', Product: 'prd', Order: 'ord' } as const;
export type EntityType = keyof typeof ENTITY_PREFIXES;

export function makeId(timeMs: bigint, bucket: number, sequence: bigint): bigint {
  const time = timeMs - EPOCH_MS;
  if (time < 0n || time > MAX_TIME) throw new RangeError(`ID time ${timeMs} is outside the ID epoch range`);
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= BUCKET_COUNT)
    throw new RangeError(`bucket ${bucket} is outside 0..${BUCKET_COUNT - 1}`);
  return (time << (BUCKET_BITS + SEQUENCE_BITS)) | (BigInt(bucket) << SEQUENCE_BITS) | (sequence & MAX_SEQUENCE);
}

export function bucketOf(id: bigint): number {
  return Number((id >> SEQUENCE_BITS) & (BigInt(BUCKET_COUNT) - 1n));
}

export function timeOf(id: bigint): Date {
  return new Date(Number((id >> (BUCKET_BITS + SEQUENCE_BITS)) + EPOCH_MS));
}

export function encodeId(type: EntityType, id: bigint | string): string {
  return `${ENTITY_PREFIXES[type]}_${id}`;
}

const DECIMAL = /^[1-9][0-9]{0,18}$/;

/** Parses a GraphQL ID of the given type or throws BAD_USER_INPUT naming the problem. */
export function decodeId(type: EntityType, value: unknown, argument = 'id'): bigint {
  const prefix = ENTITY_PREFIXES[type];
  if (typeof value !== 'string')
    throw badUserInput(`${argument} must be a ${type} ID string`, { argumentName: argument });
  const sep = value.indexOf('_');
  const got = sep > 0 ? value.slice(0, sep) : '';
  if (got !== prefix) {
    const actual = (Object.keys(ENTITY_PREFIXES) as EntityType[]).find((t) => ENTITY_PREFIXES[t] === got);
    const hint = actual ? ` (it is a ${actual} ID)` : '';
    throw badUserInput(
      `${argument} ${JSON.stringify(value)} is not a ${type} ID${hint}; ${type} IDs look like ${prefix}_<number>`,
      {
        argumentName: argument,
      },
    );
  }
  const digits = value.slice(sep + 1);
  if (!DECIMAL.test(digits) || BigInt(digits) > (1n << 63n) - 1n) {
    throw badUserInput(`${argument} ${JSON.stringify(value)} is malformed; ${type} IDs look like ${prefix}_<number>`, {
      argumentName: argument,
    });
  }
  return BigInt(digits);
}

/** A stable bucket for a natural key (e.g. an email), FNV-1a 32-bit. */
export function bucketForKey(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % BUCKET_COUNT;
}
