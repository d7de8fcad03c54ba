import type { CacheMode, WorkloadId } from '../targets';
import type { Comparison } from './check';
import type { LoadResult } from './load';

/** Everything one run of the benchmark measured: written as `<date>.json`, rendered as `<date>.md`. */
export interface BenchmarkReport {
  readonly version: 1;
  /** ISO time the run started. */
  readonly startedAt: string;
  readonly quick: boolean;
  readonly command: string;
  readonly machine: { node: string; platform: string; arch: string; cpuModel: string; cpus: number; memoryGiB: number };
  readonly gitCommit: string | undefined;
  readonly settings: {
    connections: number;
    warmupSeconds: number;
    durationSeconds: number;
    rounds: number;
    workers: readonly number[];
    loadGenerator: string;
  };
  readonly pinning: string;
  readonly notes: readonly string[];
  readonly workloads: readonly WorkloadReport[];
  /** Every process the run started; all were stopped. */
  readonly processes: ReadonlyArray<{ name: string; pid: number }>;
}

export interface WorkloadReport {
  readonly id: WorkloadId;
  readonly title: string;
  readonly query: string;
  /** Size of the reference answer in bytes. */
  readonly responseBytes: number;
  /** What every answer was checked against. */
  readonly reference: string;
  /** Target id whose requests/s the ratios divide by (at the same worker count). */
  readonly baseline: string;
  /** Run order of one round. */
  readonly order: readonly string[];
  /** Warnings and errors the workload's own services logged during the run (commerce platform). */
  readonly serviceLogs?: { warnings: number; errors: number; last: readonly string[] };
  readonly rows: readonly Row[];
}

export interface Row {
  /** `<target>@<workers>`. */
  readonly key: string;
  readonly target: string;
  readonly label: string;
  readonly cache: CacheMode;
  readonly workers: number;
  /** Node processes seen in its tree under load (a cluster primary + workers, or 1). */
  readonly processes: number;
  /** Whether the process count matches the worker count asked for (a gateway may ignore GATEWAY_WORKERS). */
  readonly workersHonoured: boolean;
  readonly cpus: string;
  /** Mean over rounds of valid responses (2xx, the expected body) per second. */
  readonly requestsPerSecond: number;
  /** Mean over rounds, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Mean over rounds of the CPU ms its processes used per response in the measured run; null without /proc. */
  readonly cpuMsPerResponse: number | null;
  /** The same per round. */
  readonly cpuMsPerResponseRounds: ReadonlyArray<number | null>;
  /** Summed over rounds: non-2xx responses, socket errors (timeouts included), 2xx responses with another body. */
  readonly errors: { non2xx: number; socket: number; timeouts: number; badBodies: number; firstBadBody?: string };
  /** Responses received in the measured runs. */
  readonly responses: number;
  readonly peakRssMiB: { total: number; perProcess: number };
  /** requests/s ÷ the baseline's at the same worker count (null for the baseline's own row or without one). */
  readonly ratio: number | null;
  /** p99 ÷ the baseline's. */
  readonly p99Ratio: number | null;
  /** requests/s ÷ the ceiling's (standard workload). */
  readonly ceilingShare: number | null;
  /**
   * Against the target its definition names in `versus`, at the same worker count (null without one): req/s and
   * p99 ÷ that row's (ratios of the round means), and req/s ÷ that row's round by round.
   */
  readonly versus: {
    target: string;
    ratio: number | null;
    p99Ratio: number | null;
    /** CPU ms per response ÷ the other's. */
    cpuRatio: number | null;
    perRound: ReadonlyArray<number | null>;
  } | null;
  /** The check before load: against the reference answer. */
  readonly check: Comparison;
  /** Subgraph HTTP requests one query caused (standard workload, counted at the subgraphs during the check). */
  readonly subgraphFetchesPerOperation: number | null;
  /** SQL statements one query caused (commerce, `db_statements_total`). */
  readonly sqlStatementsPerOperation: number | null;
  /** Share of measured responses with `x-cache: HIT`; null when the cache is off or no response said. */
  readonly cacheHitRatio: number | null;
  /** `x-cache` values counted over the measured runs. */
  readonly cacheStatuses: Record<string, number>;
  readonly rounds: readonly LoadResult[];
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const rps = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const ratio = (n: number | null) => (n === null ? '–' : `${n.toFixed(2)}×`);
const percent = (n: number | null) => (n === null ? '–' : `${(n * 100).toFixed(n >= 0.995 && n < 1 ? 2 : 1)}%`);

function errorsCell(row: Row): string {
  const e = row.errors;
  const bad = e.non2xx + e.socket + e.badBodies;
  if (bad === 0) return `0 of ${row.responses}`;
  const parts = [
    e.non2xx && `${e.non2xx} non-2xx`,
    e.socket && `${e.socket} socket${e.timeouts ? ` (${e.timeouts} timeouts)` : ''}`,
    e.badBodies && `${e.badBodies} bad bodies`,
  ];
  return `**${bad}** of ${row.responses + e.socket}: ${parts.filter(Boolean).join(', ')}`;
}

function workersCell(row: Row): string {
  const note = row.workersHonoured ? '' : ' ⚠ not honoured';
  return `${row.workers} (${row.processes} proc${row.processes === 1 ? '' : 's'})${note}`;
}

function checkCell(row: Row): string {
  if (!row.check.deepEqual) return `✗ ${row.check.difference ?? ''}`;
  return row.check.bytesIdentical ? '✓ same bytes' : '✓ deep-equal';
}

function versusCell(row: Row): string {
  const v = row.versus;
  if (!v) return '–';
  return `**${ratio(v.ratio)}** ${v.target} req/s, p99 ${ratio(v.p99Ratio)}, CPU/resp ${ratio(v.cpuRatio)}; per round ${v.perRound.map(ratio).join(' / ')}`;
}

function table(workload: WorkloadReport): string[] {
  const standard = workload.id === 'standard';
  // Rows compared with a twin (e.g. the same gateway with Apollo's executor) get a "vs" column.
  const versus = workload.rows.some((r) => r.versus);
  const head = [
    'target',
    'workers',
    'req/s',
    'p50 ms',
    'p99 ms',
    'CPU ms/resp',
    'errors',
    'peak RSS MiB (total / max proc)',
    `× ${workload.baseline} req/s`,
    `p99 vs ${workload.baseline}`,
    ...(versus ? ['vs'] : []),
    ...(standard ? ['% of ceiling', 'subgraph fetches/op'] : ['SQL statements/op']),
    'cache hits',
    'check',
    'req/s per round',
  ];
  const numeric = new Set([
    'req/s',
    'p50 ms',
    'p99 ms',
    'CPU ms/resp',
    'SQL statements/op',
    'subgraph fetches/op',
    '% of ceiling',
  ]);
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((h) => (numeric.has(h) || h.startsWith('×') || h.startsWith('p99 vs') ? '---:' : '---')).join('|')}|`,
  ];
  for (const row of workload.rows) {
    const cells = [
      `**${row.target}** ${row.label}`,
      workersCell(row),
      rps(row.requestsPerSecond),
      fixed(row.p50Ms, 0),
      fixed(row.p99Ms, 0),
      row.cpuMsPerResponse === null ? '–' : fixed(row.cpuMsPerResponse, 2),
      errorsCell(row),
      `${fixed(row.peakRssMiB.total, 0)} / ${fixed(row.peakRssMiB.perProcess, 0)}`,
      ratio(row.ratio),
      ratio(row.p99Ratio),
      ...(versus ? [versusCell(row)] : []),
      ...(standard
        ? [
            percent(row.ceilingShare),
            row.subgraphFetchesPerOperation === null ? '–' : String(row.subgraphFetchesPerOperation),
          ]
        : [row.sqlStatementsPerOperation === null ? '–' : fixed(row.sqlStatementsPerOperation, 1)]),
      row.cache === 'off' ? 'off' : percent(row.cacheHitRatio),
      checkCell(row),
      row.rounds.map((r) => rps(r.requestsPerSecond)).join(' / '),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines;
}

/** `- Machine: …` of a report: CPU, memory, platform, Node and the commit measured. */
export function machineLine(report: Pick<BenchmarkReport, 'machine' | 'gitCommit'>): string {
  const m = report.machine;
  return `- Machine: ${m.cpuModel}, ${m.cpus} CPUs, ${fixed(m.memoryGiB, 0)} GiB; ${m.platform}/${m.arch}; Node ${m.node}${report.gitCommit ? `; commit ${report.gitCommit.slice(0, 12)}` : ''}`;
}

/** The report as Markdown (commit-worthy: small, stable layout). */
export function renderMarkdown(report: BenchmarkReport): string {
  const s = report.settings;
  const out = [
    `# Gateway benchmark, ${report.startedAt.slice(0, 10)}${report.quick ? ' (quick: smoke run, not for comparison)' : ''}`,
    '',
    `- Command: \`${report.command}\``,
    machineLine(report),
    `- CPU pinning: ${report.pinning}`,
    `- Load: ${s.loadGenerator}, ${s.connections} connections, closed loop (no think time), ${s.warmupSeconds} s warm-up per target then ${s.rounds} round${s.rounds === 1 ? '' : 's'} × ${s.durationSeconds} s per target, targets alternating (${report.workloads.map((w) => w.order.join(' ')).join(' | ')})`,
    `- Worker counts: ${s.workers.join(', ')}`,
    '',
  ];
  for (const workload of report.workloads) {
    out.push(
      `## ${workload.title}`,
      '',
      `Reference answer: ${workload.reference}, ${(workload.responseBytes / 1000).toFixed(1)} KB. Every target's answer was checked deep-equal to it before the target was measured, and every response under load counts only if it is 2xx with that answer.`,
      '',
      ...table(workload),
      '',
    );
    const logs = workload.serviceLogs;
    if (logs && logs.warnings + logs.errors > 0) {
      out.push(
        `The platform's services logged ${logs.errors} errors and ${logs.warnings} warnings during the run; the last: ${logs.last.map((l) => `\`${l}\``).join('; ')}.`,
        '',
      );
    }
  }
  out.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
