import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@commerce/common';
import {
  BUCKET_COUNT,
  bucketOf,
  buildShardMap,
  makeId,
  EPOCH_MS,
  parseDatabaseShards,
  shardMapFromEnv,
} from '@commerce/kit';

const A = 'postgres://u:secret@127.0.0.1:5432/commerce';
const B = 'postgres://u:secret@127.0.0.1:5433/commerce';

function configError(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    assert.match((error as Error).message, pattern);
    return true;
  };
}

describe('shard map', () => {
  it('splits buckets evenly when no ranges are given and routes IDs by their bucket', () => {
    const map = parseDatabaseShards(`${A},${A}?replica;${B}`);
    assert.equal(map.shards.length, 2);
    assert.deepEqual(map.shards[0]!.buckets, [[0, 511]]);
    assert.deepEqual(map.shards[1]!.buckets, [[512, 1023]]);
    assert.equal(map.shards[0]!.replicas.length, 1);
    assert.equal(map.bucketToShard[bucketOf(makeId(EPOCH_MS + 5n, 17, 0n))], 0);
    assert.equal(map.bucketToShard[bucketOf(makeId(EPOCH_MS + 5n, 900, 0n))], 1);
  });

  it('honours explicit, interleaved bucket ranges', () => {
    const map = buildShardMap({
      shards: [
        { primary: A, buckets: '0-99,200-1023' },
        { primary: B, buckets: '100-199' },
      ],
    });
    assert.equal(map.bucketToShard[150], 1);
    assert.equal(map.bucketToShard[250], 0);
    assert.equal(map.bucketToShard.length, BUCKET_COUNT);
  });

  it('names the bad value in every validation error', () => {
    assert.throws(() => buildShardMap({ shards: [] }), configError(/non-empty "shards"/));
    assert.throws(
      () => buildShardMap({ shards: [{ primary: 'mysql://x/y' }] }),
      configError(/shards\[0\]\.primary must use postgres:\/\/, got "mysql:\/\/x\/y"/),
    );
    assert.throws(
      () => buildShardMap({ shards: [{ primary: A, replicas: ['nope'] }] }),
      configError(/shards\[0\]\.replicas\[0\] must be a postgres:\/\/ URL, got "nope"/),
    );
    assert.throws(
      () => buildShardMap({ shards: [{ primary: A, buckets: '0-2000' }] }),
      configError(/shards\[0\]\.buckets range "0-2000" is outside 0-1023/),
    );
    assert.throws(
      () => buildShardMap({ shards: [{ primary: A, buckets: '0-x' }] }),
      configError(/malformed range "0-x"/),
    );
    assert.throws(
      () =>
        buildShardMap({
          shards: [
            { primary: A, buckets: '0-600' },
            { primary: B, buckets: '500-1023' },
          ],
        }),
      configError(/shards\[1\]\.buckets: bucket 500 is already owned by shards\[0\]/),
    );
    assert.throws(
      () => buildShardMap({ shards: [{ primary: A, buckets: '0-1000' }] }),
      configError(/leaves bucket 1001 unassigned/),
    );
    assert.throws(
      () =>
        buildShardMap({
          shards: [
            { name: 'a', primary: A },
            { name: 'a', primary: B },
          ],
        }),
      configError(/shards\[1\]\.name "a" is used twice/),
    );
  });

  it('never puts a password in an error message', () => {
    assert.throws(
      () => buildShardMap({ shards: [{ primary: 'http://user:hunter2@host/db' }] }),
      (error: Error) => !error.message.includes('hunter2'),
    );
  });

  it('reads SHARD_MAP as inline JSON or DATABASE_SHARDS, and reports bad JSON', () => {
    const inline = shardMapFromEnv({ SHARD_MAP: JSON.stringify({ shards: [{ primary: A }] }) });
    assert.equal(inline?.shards.length, 1);
    assert.equal(shardMapFromEnv({ DATABASE_SHARDS: `${A};${B}` })?.shards.length, 2);
    assert.equal(shardMapFromEnv({}), undefined);
    assert.throws(() => shardMapFromEnv({ SHARD_MAP: '{not json' }), configError(/SHARD_MAP is not valid JSON/));
    assert.throws(
      () => shardMapFromEnv({ SHARD_MAP: '/nonexistent/map.json' }),
      configError(/SHARD_MAP file "\/nonexistent\/map.json" cannot be read/),
    );
  });
});
