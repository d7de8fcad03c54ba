import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GRAPH_NAMES, startFuzzGraph, type FuzzGraph } from './fuzz/graphs';
import { formatDifference, formatReport, runFuzz } from './fuzz/run';

/**
 * A short run of the executor differential fuzzing (`npm run fuzz:executor`
 * sends 5,000 per graph): `FUZZ_COUNT` operations per graph (default 300)
 * from `FUZZ_SEED` (default random, printed in the suite's name), each sent to
 * a gateway with `GATEWAY_EXECUTOR=apollo` and one with `compiled` over the
 * same subgraphs. Answers must be the same status and bytes; the only
 * allowance is the order of several errors when the plan fetches in parallel
 * (Apollo appends errors in arrival order; compare.ts).
 */
const COUNT = Number(process.env.FUZZ_COUNT ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`executor differential fuzzing, apollo vs compiled (FUZZ_SEED=${SEED} FUZZ_COUNT=${COUNT})`, () => {
  for (const name of GRAPH_NAMES) {
    describe(`the ${name} graph`, () => {
      let graph: FuzzGraph | undefined;
      before(async () => {
        graph = await startFuzzGraph(name, { executors: ['apollo', 'compiled'] });
      });
      after(() => graph?.stop());

      it('answers every generated query the same with both executors, most of them with data', async () => {
        const report = await runFuzz(graph!, { seed: SEED, count: COUNT });
        const shown = report.differences.slice(0, 3).map(formatDifference).join('\n\n');
        assert.equal(report.differences.length, 0, `${formatReport(report)}\n\n${shown}`);
        assert.equal(report.operations, COUNT);
        // The run means something only if answers carry data and documents use the constructs under test.
        assert.ok(report.withData >= COUNT * 0.5, `answers with data:\n${formatReport(report)}`);
        assert.ok((report.statuses['200'] ?? 0) >= COUNT * 0.9, `answers with 200:\n${formatReport(report)}`);
        for (const feature of [
          'alias',
          'named-fragment',
          'inline-fragment',
          'skip',
          'include',
          'argument-variable',
        ] as const)
          assert.ok(report.features[feature] >= COUNT * 0.2, `${feature}:\n${formatReport(report)}`);
        if (name === 'scenarios')
          assert.ok(report.features['inline-fragment-abstract'] >= COUNT * 0.05, `abstract:\n${formatReport(report)}`);
        if (name === 'commerce') {
          // Authorization and missing entities make errors and nulls part of the comparison.
          assert.ok(report.withErrors >= COUNT * 0.1, `answers with errors:\n${formatReport(report)}`);
          assert.ok(Object.keys(report.callers).length === 3, `callers: ${JSON.stringify(report.callers)}`);
        }
      });
    });
  }
});
