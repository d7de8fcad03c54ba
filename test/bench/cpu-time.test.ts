import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLOCK_TICKS, cpuSecondsBetween, treeCpuTicks, type ProcessSample } from '../../bench/lib/proc';

describe('CPU time of a sampled process tree', () => {
  // Ticks over time: 0 at 0 µs, 100 at 1 s, 100 at 2 s (idle), 300 at 3 s.
  const samples = [
    { atUs: 0, ticks: 0 },
    { atUs: 1_000_000, ticks: 100 },
    { atUs: 2_000_000, ticks: 100 },
    { atUs: 3_000_000, ticks: 300 },
  ];

  it('interpolates between the samples around each end of the window (Linux clock ticks)', () => {
    // 0.5 s → 50 ticks; 2.5 s → 200 ticks: 150 ticks.
    assert.equal(cpuSecondsBetween(samples, 500_000, 2_500_000), 150 / CLOCK_TICKS);
    assert.equal(cpuSecondsBetween(samples, 1_000_000, 2_000_000), 0);
    assert.equal(cpuSecondsBetween(samples, 0, 3_000_000), 300 / CLOCK_TICKS);
  });

  it('knows nothing of a window the samples do not bracket', () => {
    assert.equal(cpuSecondsBetween(samples, -1, 1_000_000), undefined);
    assert.equal(cpuSecondsBetween(samples, 1_000_000, 3_000_001), undefined);
    assert.equal(cpuSecondsBetween([], 0, 1), undefined);
  });

  it("sums the tree's processes, and has no total when one process's CPU time is unknown", () => {
    const p = (pid: number, cpuTicks: number | undefined): ProcessSample => ({
      pid,
      ppid: 1,
      startTime: undefined,
      rssKiB: 1,
      peakRssKiB: undefined,
      isNode: true,
      cpuTicks,
    });
    assert.equal(treeCpuTicks([p(2, 10), p(3, 32)]), 42);
    assert.equal(treeCpuTicks([p(2, 10), p(3, undefined)]), undefined);
    assert.equal(treeCpuTicks([]), undefined);
  });
});
