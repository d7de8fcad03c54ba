/**
 * Runs generated operations against the two gateways of a fuzz graph and
 * compares every pair of answers (compare.ts). Bounded: `count` operations,
 * `inFlight` at a time, each send under a timeout.
 */
import { compareAnswers, createPlanInspector, type Answer } from './compare';
import {
  OPERATION_FEATURES,
  createOperationGenerator,
  type GeneratedOperation,
  type OperationFeature,
} from './generate';
import type { Caller, FuzzGraph } from './graphs';

/** Options of {@link runFuzz}. */
export interface FuzzRunOptions {
  readonly seed: number;
  /** Operations 0 … count-1 of the seed. */
  readonly count: number;
  /** Run only this operation of the seed (its index), e.g. to replay one difference. Default: all of them. */
  readonly only?: number;
  /** Operations in flight at once (each sent to both gateways together). Default 8. */
  readonly inFlight?: number;
  /** Budget of one send. Default 15000 ms. */
  readonly timeoutMs?: number;
  /** Diagnosis only: answers that differ only in the order of object keys are counted, not reported. Default false. */
  readonly ignoreKeyOrder?: boolean;
  /** Told of each difference as it is found. Default: nothing. */
  readonly onDifference?: (difference: FuzzDifference) => void;
}

/** Two answers to one operation that are not the same. */
export interface FuzzDifference {
  readonly graph: string;
  readonly seed: number;
  readonly index: number;
  readonly caller: string;
  readonly query: string;
  readonly operationName: string | undefined;
  readonly variables: Readonly<Record<string, unknown>>;
  /** Executor → status and body text. */
  readonly answers: ReadonlyArray<{ readonly executor: string; readonly status: number; readonly body: string }>;
}

/** An operation sent in a run, as it was sent. */
export interface FuzzOperation {
  readonly index: number;
  readonly caller: string;
  readonly query: string;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly status: number;
}

/** The operations answered with a 5xx that a report keeps (the first ones). */
const SERVER_ERRORS_KEPT = 20;

/** What a run did. */
export interface FuzzReport {
  readonly graph: string;
  readonly seed: number;
  readonly operations: number;
  readonly differences: readonly FuzzDifference[];
  /** Answers whose errors came in another order from a plan that fetches in parallel (not differences). */
  readonly errorsReordered: number;
  /** With `ignoreKeyOrder`: answers that differ only in the order of object keys. */
  readonly keyOrderOnly: number;
  /** HTTP status → operations (the first gateway's; a status mismatch is a difference). */
  readonly statuses: Readonly<Record<string, number>>;
  /** The first operations either gateway answered with a 5xx (a valid query should never get one). */
  readonly serverErrors: readonly FuzzOperation[];
  /** Operations whose answer has `data` that is not null. */
  readonly withData: number;
  /** Operations whose answer has `errors`. */
  readonly withErrors: number;
  /** Caller → operations. */
  readonly callers: Readonly<Record<string, number>>;
  /** Feature → operations whose document has it. */
  readonly features: Readonly<Record<OperationFeature, number>>;
  readonly seconds: number;
}

function callerOf(callers: readonly Caller[], draw: number): Caller {
  const total = callers.reduce((sum, c) => sum + c.weight, 0);
  let at = draw * total;
  for (const caller of callers) if ((at -= caller.weight) < 0) return caller;
  return callers[callers.length - 1]!;
}

/** POSTs one operation as `caller` and reads the whole answer. */
export async function send(
  url: string,
  operation: Pick<GeneratedOperation, 'query' | 'operationName' | 'variables'>,
  caller: Caller,
  timeoutMs: number,
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...caller.headers },
    body: JSON.stringify({
      query: operation.query,
      operationName: operation.operationName,
      variables: operation.variables,
    }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
}

function summary(body: Buffer): { data: boolean; errors: boolean } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { data?: unknown; errors?: unknown };
    return { data: parsed.data !== null && parsed.data !== undefined, errors: parsed.errors !== undefined };
  } catch {
    return { data: false, errors: true };
  }
}

/** The command that replays a run up to and including operation `index`. */
export function replayCommand(graph: string, seed: number, index: number): string {
  return `FUZZ_SEED=${seed} FUZZ_COUNT=${index + 1} npm run fuzz:executor -- --graphs ${graph} (or --only ${index})`;
}

/** Sends operations `0 … count-1` of `options.seed` (or just `options.only`) to both gateways of `graph`. */
export async function runFuzz(graph: FuzzGraph, options: FuzzRunOptions): Promise<FuzzReport> {
  if (graph.gateways.length !== 2) throw new Error('a fuzz graph needs exactly two gateways');
  const [a, b] = graph.gateways as [FuzzGraph['gateways'][0], FuzzGraph['gateways'][0]];
  const generator = createOperationGenerator({ schema: graph.schema, seed: options.seed, fields: graph.fields });
  const planner = createPlanInspector(graph.supergraphSdl);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const indexes = options.only !== undefined ? [options.only] : Array.from({ length: options.count }, (_, i) => i);
  const differences: FuzzDifference[] = [];
  const serverErrors: FuzzOperation[] = [];
  const statuses: Record<string, number> = {};
  const callers: Record<string, number> = {};
  const features = Object.fromEntries(OPERATION_FEATURES.map((f) => [f, 0])) as Record<OperationFeature, number>;
  let withData = 0;
  let withErrors = 0;
  let errorsReordered = 0;
  let keyOrderOnly = 0;
  const started = performance.now();
  let next = 0;

  async function one(index: number): Promise<void> {
    // Generated in index order whatever the sends' timing: the generator walks its streams forward.
    const operation = generator.operation(index);
    const caller = callerOf(graph.callers, operation.draw);
    const [left, right] = await Promise.all([
      send(a.url, operation, caller, timeoutMs),
      send(b.url, operation, caller, timeoutMs),
    ]);
    const comparison = compareAnswers(
      left,
      right,
      () => planner.fetchesInParallel(operation.query, operation.operationName),
      { ignoreKeyOrder: options.ignoreKeyOrder },
    );
    statuses[left.status] = (statuses[left.status] ?? 0) + 1;
    callers[caller.name] = (callers[caller.name] ?? 0) + 1;
    for (const feature of operation.features) features[feature] += 1;
    const seen = summary(left.body);
    if (seen.data) withData += 1;
    if (seen.errors) withErrors += 1;
    if ((left.status >= 500 || right.status >= 500) && serverErrors.length < SERVER_ERRORS_KEPT) {
      const { query, variables } = operation;
      serverErrors.push({ index, caller: caller.name, query, variables, status: Math.max(left.status, right.status) });
    }
    if (comparison === 'errors-reordered') errorsReordered += 1;
    if (comparison === 'key-order') keyOrderOnly += 1;
    if (comparison === 'different') {
      const difference: FuzzDifference = {
        graph: graph.name,
        seed: options.seed,
        index,
        caller: caller.name,
        query: operation.query,
        operationName: operation.operationName,
        variables: operation.variables,
        answers: [
          { executor: a.executor, status: left.status, body: left.body.toString('utf8') },
          { executor: b.executor, status: right.status, body: right.body.toString('utf8') },
        ],
      };
      differences.push(difference);
      options.onDifference?.(difference);
    }
  }

  async function worker(): Promise<void> {
    while (next < indexes.length) await one(indexes[next++]!);
  }
  await Promise.all(Array.from({ length: Math.max(1, options.inFlight ?? 8) }, worker));
  return {
    graph: graph.name,
    seed: options.seed,
    operations: indexes.length,
    differences: differences.sort((x, y) => x.index - y.index),
    errorsReordered,
    keyOrderOnly,
    serverErrors: serverErrors.sort((x, y) => x.index - y.index),
    statuses,
    withData,
    withErrors,
    callers,
    features,
    seconds: (performance.now() - started) / 1000,
  };
}

/** A difference as text: how to replay it, the operation, both answers. */
export function formatDifference(difference: FuzzDifference): string {
  return [
    `difference in ${difference.graph}, seed ${difference.seed}, operation ${difference.index} (caller ${difference.caller})`,
    `  replay: ${replayCommand(difference.graph, difference.seed, difference.index)}`,
    `  variables: ${JSON.stringify(difference.variables)}`,
    difference.query.replace(/^/gm, '    '),
    ...difference.answers.map((answer) => `  ${answer.executor} → ${answer.status} ${answer.body}`),
  ].join('\n');
}

/** The report as a few lines: operations, differences, status mix, data and errors shares, rate. */
export function formatReport(report: FuzzReport): string {
  const share = (n: number) => `${((100 * n) / Math.max(1, report.operations)).toFixed(1)}%`;
  const statuses = Object.entries(report.statuses)
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ');
  const features = Object.entries(report.features)
    .map(([feature, n]) => `${feature} ${share(n)}`)
    .join(', ');
  return [
    `${report.graph}: ${report.operations} operations (seed ${report.seed}), ${report.differences.length} differences, ` +
      `${report.errorsReordered} with errors reordered by a parallel plan` +
      (report.keyOrderOnly > 0 ? `, ${report.keyOrderOnly} differing only in key order (not counted)` : ''),
    `  statuses ${statuses}; with data ${share(report.withData)}, with errors ${share(report.withErrors)}; ` +
      `callers ${JSON.stringify(report.callers)}`,
    `  ${report.seconds.toFixed(1)} s, ${(report.operations / report.seconds).toFixed(0)} operations/s (each sent to both gateways)`,
    `  features: ${features}`,
  ].join('\n');
}
