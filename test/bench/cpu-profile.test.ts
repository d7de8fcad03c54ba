import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import {
  areaOf,
  bundleSources,
  renderProfileSummary,
  summarizeProfiles,
  type CpuProfile,
} from '../../bench/lib/cpu-profile';

const ROOT = '/repo';
const frame = (functionName: string, url = '', lineNumber = -1) => ({ functionName, url, lineNumber });

/**
 * A tiny profile of a gateway: module loading before the window, then Apollo's executor, the garbage collector,
 * idle time, our executor, a native function, node's events, a nested copy of undici; a last sample after the window.
 */
const NODES = [
  { id: 1, callFrame: frame('(root)') },
  { id: 2, callFrame: frame('(program)') },
  { id: 3, callFrame: frame('(idle)') },
  { id: 4, callFrame: frame('(garbage collector)') },
  {
    id: 5,
    callFrame: frame('executeQueryPlan', 'file:///repo/node_modules/@apollo/gateway/dist/executeQueryPlan.js', 9),
  },
  { id: 6, callFrame: frame('mergeInto', 'file:///repo/gateway/src/executor/merge.ts', 41) },
  { id: 7, callFrame: frame('writev') },
  { id: 8, callFrame: frame('emit', 'node:events', 470) },
  { id: 9, callFrame: frame('_resume', 'file:///repo/node_modules/a/node_modules/undici/lib/client.js', 588) },
];
// Sample times (µs): 1_000_100 (before the window), 1_000_200 … 1_001_500 in it, 1_001_600 (the window's end, out).
const PROFILE: CpuProfile = {
  nodes: NODES,
  startTime: 1_000_000,
  endTime: 1_001_700,
  samples: [6, 5, 5, 4, 3, 6, 7, 8, 9, 6],
  timeDeltas: [100, 100, 300, 100, 200, 400, 100, 100, 100, 100],
};
const WINDOW = { fromUs: 1_000_200, toUs: 1_001_600 };

describe('CPU profile summary', () => {
  it('counts only the samples in the window, each until the next sample, and splits busy from idle', () => {
    const summary = summarizeProfiles([PROFILE], { window: WINDOW, root: ROOT });
    assert.equal(summary.samples, 8);
    assert.equal(summary.sampledMs, 1.4);
    assert.equal(summary.busyMs, 1);
    assert.equal(summary.idleMs, 0.4);
    assert.equal(summary.profiles, 1);
  });

  it('gives each area its share of the busy time, largest first, idle left out', () => {
    const summary = summarizeProfiles([PROFILE], { window: WINDOW, root: ROOT });
    assert.deepEqual(
      summary.areas.map((a) => [a.area, a.ms, a.share]),
      [
        ['@apollo/gateway', 0.4, 0.4],
        ['garbage collector', 0.2, 0.2],
        ['gateway/src/executor', 0.1, 0.1],
        ['native functions (V8 builtins such as JSON.parse, C++ bindings)', 0.1, 0.1],
        ['node internals', 0.1, 0.1],
        ['undici', 0.1, 0.1],
      ],
    );
  });

  it('lists the functions by self time with a short location and a 1-based line', () => {
    const summary = summarizeProfiles([PROFILE], { window: WINDOW, root: ROOT, topFunctions: 2 });
    assert.deepEqual(summary.functions, [
      {
        name: 'executeQueryPlan',
        location: '@apollo/gateway/dist/executeQueryPlan.js:10',
        area: '@apollo/gateway',
        ms: 0.4,
        share: 0.4,
      },
      { name: '(garbage collector)', location: '(native)', area: 'garbage collector', ms: 0.2, share: 0.2 },
    ]);
  });

  it('without a window counts every sample, the last one until the end of the profile', () => {
    const summary = summarizeProfiles([PROFILE], { root: ROOT });
    assert.equal(summary.samples, 10);
    assert.equal(summary.busyMs, 1.2);
    const ours = summary.areas.find((a) => a.area === 'gateway/src/executor');
    assert.deepEqual([ours?.ms, ours?.share], [0.3, 0.25]);
  });

  it('sums several profiles (the workers of a cluster): the same shares, twice the time', () => {
    const one = summarizeProfiles([PROFILE], { window: WINDOW, root: ROOT });
    const two = summarizeProfiles([PROFILE, PROFILE], { window: WINDOW, root: ROOT });
    assert.equal(two.profiles, 2);
    assert.equal(two.busyMs, 2 * one.busyMs);
    assert.deepEqual(
      two.areas.map((a) => [a.area, a.share]),
      one.areas.map((a) => [a.area, a.share]),
    );
  });

  it('counts a sample recorded out of order (negative delta) as no time', () => {
    const summary = summarizeProfiles([
      { nodes: NODES, startTime: 0, endTime: 300, samples: [5, 6, 7], timeDeltas: [100, 100, -50] },
    ]);
    // 5 runs 100-200, 6 from 200 until 150 (nothing), 7 from 150 until the end.
    assert.equal(summary.busyMs, 0.25);
    assert.equal(
      summary.areas.find((a) => a.area === 'gateway/src/executor'),
      undefined,
    );
  });

  it('names areas: gateway/src directories, its top-level files, other packages of the repository, scoped packages', () => {
    assert.equal(areaOf(frame('f', 'file:///repo/gateway/src/server.ts'), ROOT), 'gateway/src (top level)');
    assert.equal(areaOf(frame('f', 'file:///repo/gateway/src/cache/store.ts'), ROOT), 'gateway/src/cache');
    assert.equal(areaOf(frame('f', 'file:///repo/common/src/http.ts'), ROOT), 'common/src');
    assert.equal(areaOf(frame('f', 'file:///repo/subgraphs/users/src/a/b.ts'), ROOT), 'subgraphs/users');
    assert.equal(areaOf(frame('f', '/repo/node_modules/@apollo/server/dist/x.js'), ROOT), '@apollo/server');
    assert.equal(areaOf(frame('f', 'node:internal/streams/writable'), ROOT), 'node internals');
    assert.equal(areaOf(frame('f', 'file:///elsewhere/x.js'), ROOT), 'other: /elsewhere/x.js');
    assert.equal(areaOf(frame('(program)'), ROOT), 'V8 and native code not attributed to a JS function (program)');
  });

  it('renders busy/idle, the areas and the functions as Markdown tables', () => {
    const lines = renderProfileSummary(summarizeProfiles([PROFILE], { window: WINDOW, root: ROOT }));
    assert.match(
      lines[0]!,
      /^Sampled 1\.4 ms \(8 samples, 1 profile\): busy 1\.0 ms \(71\.4%\), idle 0\.4 ms \(28\.6%\)\.$/,
    );
    assert.ok(lines.includes('| @apollo/gateway | 40.0% | 0.4 |'), lines.join('\n'));
    assert.ok(
      lines.includes('| `mergeInto` | gateway/src/executor/merge.ts:42 | gateway/src/executor | 10.0% | 0.1 |'),
      lines.join('\n'),
    );
  });
});

describe('bundleSources: frames of a built bundle named by their sources', () => {
  it('maps a function of the bundle back to its source file and line through the source map', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bundle-sources-'));
    try {
      await writeFile(
        join(dir, 'source.ts'),
        'export function first() {\n  return 1;\n}\n\nexport function second(): number {\n  return Math.random();\n}\n',
      );
      const bundle = join(dir, 'out.mjs');
      await build({
        entryPoints: [join(dir, 'source.ts')],
        bundle: true,
        format: 'esm',
        outfile: bundle,
        sourcemap: 'linked',
        logLevel: 'silent',
      });
      const lines = (await readFile(bundle, 'utf8')).split('\n');
      const line = lines.findIndex((l) => l.includes('function second'));
      const column = lines[line]!.indexOf('function second');
      const remap = bundleSources(bundle);
      const mapped = remap({
        functionName: 'second',
        url: pathToFileURL(bundle).href,
        lineNumber: line,
        columnNumber: column,
      });
      assert.equal(mapped.url, pathToFileURL(join(dir, 'source.ts')).href);
      assert.equal(mapped.lineNumber, 4, 'line 5 of the source, 0-based');
      const elsewhere = { functionName: 'x', url: 'node:events', lineNumber: 3 };
      assert.deepEqual(remap(elsewhere), elsewhere);
      assert.deepEqual(bundleSources(join(dir, 'missing.mjs'))(elsewhere), elsewhere);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
