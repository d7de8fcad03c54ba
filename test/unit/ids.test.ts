import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUCKET_COUNT, EPOCH_MS, bucketForKey, bucketOf, decodeId, encodeId, makeId, timeOf } from '@commerce/kit';

describe('IDs', () => {
  it('round-trips time, bucket and sequence through encode/decode', () => {
    for (const bucket of [0, 1, 511, 512, BUCKET_COUNT - 1]) {
      const time = EPOCH_MS + 123_456_789n;
      const id = makeId(time, bucket, 4095n);
      assert.equal(bucketOf(id), bucket);
      assert.equal(timeOf(id).getTime(), Number(time));
      assert.equal(id & 4095n, 4095n);
      const text = encodeId('Order', id);
      assert.match(text, /^ord_[0-9]+$/);
      assert.equal(decodeId('Order', text), id);
    }
  });

  it('keeps IDs ordered by time and within 63 bits', () => {
    const early = makeId(EPOCH_MS + 1n, 1023, 4095n);
    const later = makeId(EPOCH_MS + 2n, 0, 0n);
    assert.ok(later > early);
    const max = makeId(EPOCH_MS + (1n << 41n) - 1n, 1023, 4095n);
    assert.equal(max, (1n << 63n) - 1n);
  });

  it('rejects an ID of the wrong type, naming the type it is', () => {
    assert.throws(
      () => decodeId('User', 'prd_12345'),
      (error: Error & { extensions?: Record<string, unknown> }) => {
        assert.equal(error.extensions?.code, 'BAD_USER_INPUT');
        assert.match(error.message, /not a User ID \(it is a Product ID\)/);
        return true;
      },
    );
  });

  it('rejects malformed IDs with BAD_USER_INPUT', () => {
    for (const bad of ['', 'usr_', 'usr_abc', 'usr_-1', 'usr_0012', 'usr_99999999999999999999', '12345', 'usr 1', 42]) {
      assert.throws(
        () => decodeId('User', bad),
        (error: Error & { extensions?: Record<string, unknown> }) => error.extensions?.code === 'BAD_USER_INPUT',
        String(bad),
      );
    }
  });

  it('refuses to build IDs outside the epoch or bucket range', () => {
    assert.throws(() => makeId(EPOCH_MS - 1n, 0, 0n), /epoch/);
    assert.throws(() => makeId(EPOCH_MS, BUCKET_COUNT, 0n), /bucket 1024/);
  });

  it('hashes natural keys to a stable bucket', () => {
    assert.equal(bucketForKey('user1@example.com'), bucketForKey('user1@example.com'));
    const buckets = new Set(Array.from({ length: 2000 }, (_, i) => bucketForKey(`user${i}@example.com`)));
    assert.ok(buckets.size > 800, `keys spread over ${buckets.size} buckets`);
  });
});
