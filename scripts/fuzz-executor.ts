/**
 * npm run fuzz:executor [-- --graphs standard,commerce,scenarios --executors apollo,compiled --in-flight 8 --only <index> --minimize <n>]
 * Differential fuzzing of the query-plan executors (README "Errors"): random
 * valid queries (test/executor/fuzz/generate.ts) sent to two gateways that
 * differ only in GATEWAY_EXECUTOR, over the standard workload, the commerce
 * platform and the federation scenarios' subgraphs; every pair of answers
 * must be the same (status and bytes). FUZZ_COUNT operations per graph
 * (default 5000) from FUZZ_SEED
 * (default random, printed). Prints each difference with the command that
 * replays it and a summary per graph; exits 1 on any difference. --minimize n
 * shrinks the first n differences of each graph to the smallest operation
 * that still differs (test/executor/fuzz/minimize.ts) and prints those.
 * --ignore-key-order (diagnosis only) sets aside answers that differ only in
 * the order of object keys, to find the differences of values behind them.
 */
import { parseArgs } from 'node:util';
import { GRAPH_NAMES, startFuzzGraph, type GraphName } from '../test/executor/fuzz/graphs';
import { minimizeOperation, stillDifferent, stillServerError } from '../test/executor/fuzz/minimize';
import { formatDifference, formatReport, runFuzz } from '../test/executor/fuzz/run';

const { values } = parseArgs({
  options: {
    graphs: { type: 'string' },
    executors: { type: 'string', default: 'apollo,compiled' },
    'in-flight': { type: 'string', default: '8' },
    only: { type: 'string' },
    minimize: { type: 'string', default: '0' },
    'ignore-key-order': { type: 'boolean', default: false },
  },
});

function integer(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

async function main(): Promise<number> {
  const count = integer('FUZZ_COUNT', process.env.FUZZ_COUNT ?? '5000', 1);
  const seed = integer('FUZZ_SEED', process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31)), 0);
  const inFlight = integer('--in-flight', values['in-flight']!, 1);
  const minimize = integer('--minimize', values.minimize!, 0);
  const only = values.only === undefined ? undefined : integer('--only', values.only, 0);
  const executors = values.executors!.split(',').map((e) => e.trim());
  if (executors.length !== 2) throw new Error('--executors names two GATEWAY_EXECUTOR values, e.g. apollo,compiled');
  // The scenarios' harness runs one gateway per executor: with the same one twice it sits out unless named.
  const all = executors[0] === executors[1] ? GRAPH_NAMES.filter((g) => g !== 'scenarios') : GRAPH_NAMES;
  const graphs = (values.graphs ?? all.join(',')).split(',').map((g) => g.trim());
  for (const g of graphs)
    if (!(GRAPH_NAMES as readonly string[]).includes(g))
      throw new Error(`--graphs: unknown graph ${JSON.stringify(g)} (${GRAPH_NAMES.join(', ')})`);
  console.log(
    `fuzz:executor FUZZ_SEED=${seed} FUZZ_COUNT=${count}, ${executors.join(' vs ')}, graphs ${graphs.join(', ')}`,
  );
  let differences = 0;
  for (const name of graphs as GraphName[]) {
    const graph = await startFuzzGraph(name, { executors: executors as [string, string] });
    try {
      const report = await runFuzz(graph, {
        seed,
        count,
        only,
        inFlight,
        ignoreKeyOrder: values['ignore-key-order'],
        onDifference: (d) => console.log(formatDifference(d)),
      });
      differences += report.differences.length;
      console.log(formatReport(report));
      if (report.serverErrors.length > 0)
        console.log(
          `  ${report.serverErrors.length}${report.serverErrors.length >= 20 ? '+' : ''} operations answered 5xx, first: ${report.serverErrors[0]!.index}`,
        );
      for (const difference of report.differences.slice(0, minimize)) {
        const keep = stillDifferent({ ignoreKeyOrder: values['ignore-key-order'] });
        const smallest = await minimizeOperation(graph, difference, keep);
        const title = `smallest difference (${smallest.tries} tries)`;
        console.log(formatDifference({ ...difference, ...smallest }).replace(/^difference/, title));
      }
      for (const failed of report.serverErrors.slice(0, minimize)) {
        const smallest = await minimizeOperation(graph, failed, stillServerError);
        const shown = { ...failed, graph: name, seed, operationName: undefined, ...smallest };
        console.log(
          formatDifference(shown).replace(/^difference/, `smallest ${failed.status} (${smallest.tries} tries)`),
        );
      }
    } finally {
      await graph.stop();
    }
  }
  return differences === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`fuzz:executor failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
