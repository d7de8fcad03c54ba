import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrimaryPositions } from '../../subgraphs/kit/src/db/replica-lag';

describe('replica lag from the primary positions the probes saw', () => {
  it('is how long ago the primary first stood beyond the replay position, and the bytes still to replay', () => {
    const positions = new PrimaryPositions(60_000);
    positions.record(100n, 1000);
    positions.record(200n, 2000);
    positions.record(300n, 3000);
    assert.deepEqual(positions.lagOf(300n, 3500), { ms: 0, bytes: 0n }, 'caught up');
    assert.deepEqual(positions.lagOf(250n, 3500), { ms: 500, bytes: 50n });
    assert.deepEqual(positions.lagOf(150n, 3500), { ms: 1500, bytes: 150n });
    assert.deepEqual(positions.lagOf(50n, 3500), { ms: 2500, bytes: 250n });
  });

  it('stays 0 for a caught-up replica of a primary that takes no writes, however long it is idle', () => {
    const positions = new PrimaryPositions(60_000);
    for (let at = 0; at <= 600_000; at += 500) positions.record(700n, at);
    assert.deepEqual(positions.lagOf(700n, 600_000), { ms: 0, bytes: 0n });
  });

  it('reads a lag longer than the history it keeps as at least that long', () => {
    const positions = new PrimaryPositions(1000);
    for (let at = 0; at <= 10_000; at += 100) positions.record(BigInt(at + 1), at);
    assert.ok(positions.lagOf(0n, 10_000).ms >= 1000);
  });

  it('starts over when the primary is behind what was seen (WAL lost in a crash)', () => {
    const positions = new PrimaryPositions(60_000);
    positions.record(500n, 1000);
    positions.record(400n, 2000);
    assert.deepEqual(positions.lagOf(400n, 2500), { ms: 0, bytes: 0n });
    assert.equal(positions.current, 400n);
  });
});
