import { readFileSync } from 'node:fs';
import { ConfigError, redactUrl } from '@commerce/common';
import { BUCKET_COUNT } from './ids';

/**
 * The shard map: logical buckets (fixed, {@link BUCKET_COUNT}) → physical
 * shards, each a primary and zero or more streaming replicas. Moving buckets
 * between shards is a change of this map plus a data move (see README).
 *
 * File / SHARD_MAP format:
 * { "shards": [ { "name": "shard0", "buckets": "0-511",
 *                 "primary": "postgres://…", "replicas": ["postgres://…"] }, … ] }
 * `buckets` is a comma-separated list of ranges ("0-99,200-299") or omitted
 * on every shard to split the buckets evenly.
 */
export interface ShardConfig {
  readonly index: number;
  readonly name: string;
  readonly primary: string;
  readonly replicas: readonly string[];
  readonly buckets: readonly (readonly [number, number])[];
}

export interface ShardMap {
  readonly shards: readonly ShardConfig[];
  /** bucket → shard index, length {@link BUCKET_COUNT}. */
  readonly bucketToShard: Uint16Array;
}

interface RawShard {
  name?: unknown;
  primary?: unknown;
  replicas?: unknown;
  buckets?: unknown;
}

function checkUrl(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '')
    throw new ConfigError(`${where} must be a postgres:// URL, got ${JSON.stringify(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${where} must be a postgres:// URL, got ${JSON.stringify(redactUrl(value))}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`${where} must use postgres://, got ${JSON.stringify(redactUrl(value))}`);
  }
  return value;
}

function parseRanges(value: unknown, where: string): [number, number][] {
  if (typeof value !== 'string')
    throw new ConfigError(`${where} must be a string of bucket ranges like "0-511", got ${JSON.stringify(value)}`);
  return value.split(',').map((part) => {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!match) throw new ConfigError(`${where} has a malformed range ${JSON.stringify(part)}; use "from-to" or "n"`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (from > to || to >= BUCKET_COUNT) {
      throw new ConfigError(
        `${where} range ${JSON.stringify(part.trim())} is outside 0-${BUCKET_COUNT - 1} or reversed`,
      );
    }
    return [from, to];
  });
}

function evenRanges(shardCount: number, index: number): [number, number][] {
  const size = Math.floor(BUCKET_COUNT / shardCount);
  const from = index * size;
  const to = index === shardCount - 1 ? BUCKET_COUNT - 1 : from + size - 1;
  return [[from, to]];
}

/** Validates a shard map object; errors name the offending path and value. */
export function buildShardMap(raw: unknown): ShardMap {
  const shardsRaw = (raw as { shards?: unknown } | null)?.shards;
  if (!Array.isArray(shardsRaw) || shardsRaw.length === 0)
    throw new ConfigError('shard map must have a non-empty "shards" array');
  if (shardsRaw.length > BUCKET_COUNT)
    throw new ConfigError(`shard map has ${shardsRaw.length} shards, more than ${BUCKET_COUNT} buckets`);
  const explicit = shardsRaw.filter((s: RawShard) => s?.buckets !== undefined).length;
  if (explicit !== 0 && explicit !== shardsRaw.length)
    throw new ConfigError('shard map: give "buckets" on every shard or on none');
  const names = new Set<string>();
  const owner = new Int32Array(BUCKET_COUNT).fill(-1);
  const shards = shardsRaw.map((s: RawShard, index): ShardConfig => {
    const where = `shards[${index}]`;
    const name = s?.name === undefined ? `shard${index}` : s.name;
    if (typeof name !== 'string' || !/^[a-zA-Z0-9_-]{1,63}$/.test(name))
      throw new ConfigError(`${where}.name must be 1-63 letters, digits, _ or -, got ${JSON.stringify(name)}`);
    if (names.has(name)) throw new ConfigError(`${where}.name ${JSON.stringify(name)} is used twice`);
    names.add(name);
    const primary = checkUrl(s.primary, `${where}.primary`);
    if (s.replicas !== undefined && !Array.isArray(s.replicas))
      throw new ConfigError(`${where}.replicas must be an array of URLs`);
    const replicas = ((s.replicas as unknown[]) ?? []).map((r, j) => checkUrl(r, `${where}.replicas[${j}]`));
    const buckets = explicit ? parseRanges(s.buckets, `${where}.buckets`) : evenRanges(shardsRaw.length, index);
    for (const [from, to] of buckets) {
      for (let b = from; b <= to; b++) {
        if (owner[b] !== -1)
          throw new ConfigError(`${where}.buckets: bucket ${b} is already owned by shards[${owner[b]}]`);
        owner[b] = index;
      }
    }
    return Object.freeze({ index, name, primary, replicas: Object.freeze(replicas), buckets: Object.freeze(buckets) });
  });
  const missing = owner.indexOf(-1);
  if (missing !== -1)
    throw new ConfigError(
      `shard map leaves bucket ${missing} unassigned; buckets 0-${BUCKET_COUNT - 1} must all be covered`,
    );
  return Object.freeze({ shards: Object.freeze(shards), bucketToShard: Uint16Array.from(owner) });
}

/**
 * `DATABASE_SHARDS`: shards separated by `;`, each `primaryUrl[,replicaUrl…]`,
 * buckets split evenly. E.g. `postgres://a/db,postgres://a-ro/db;postgres://b/db`.
 */
export function parseDatabaseShards(value: string): ShardMap {
  const shards = value
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [primary, ...replicas] = s.split(',').map((u) => u.trim());
      return { primary, replicas };
    });
  return buildShardMap({ shards });
}

/**
 * Reads the shard map from the environment: `SHARD_MAP` (inline JSON or a
 * path to a JSON file) or `DATABASE_SHARDS`. Returns undefined when neither
 * is set (the embedded default applies).
 */
export function shardMapFromEnv(env: Record<string, string | undefined>): ShardMap | undefined {
  const map = env.SHARD_MAP?.trim();
  if (map) {
    let text = map;
    if (!map.startsWith('{')) {
      try {
        text = readFileSync(map, 'utf8');
      } catch (error) {
        throw new ConfigError(`SHARD_MAP file ${JSON.stringify(map)} cannot be read: ${(error as Error).message}`);
      }
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`SHARD_MAP is not valid JSON: ${(error as Error).message}`);
    }
    return buildShardMap(raw);
  }
  const shards = env.DATABASE_SHARDS?.trim();
  return shards ? parseDatabaseShards(shards) : undefined;
}

/** The map as plain JSON (for passing to child processes or writing a file). */
export function shardMapToJson(map: ShardMap): string {
  return JSON.stringify({
    shards: map.shards.map((s) => ({
      name: s.name,
      primary: s.primary,
      replicas: s.replicas,
      buckets: s.buckets.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(','),
    })),
  });
}
