import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCpuList } from './lib/cpus';
import { TARGET_IDS } from './targets';

/** The benchmark's options: parsed once, validated, frozen. */
export interface BenchOptions {
  /** `--quick`: short warm-up and duration, 1 round (a smoke run; its numbers are not for comparison). */
  readonly quick: boolean;
  /** `--warmup <s>`: load before each target's first measured run, not measured. Default 10 (quick: 2). */
  readonly warmupSeconds: number;
  /** `--duration <s>`: one measured run. Default 20 (quick: 5). */
  readonly durationSeconds: number;
  /** `--connections <n>`: concurrent connections (closed loop, no think time). Default 50. */
  readonly connections: number;
  /** `--rounds <n>`: each round runs every target once, in the same order (A B C D A B C D …). Default 3 (quick: 1). */
  readonly rounds: number;
  /** `--targets a,b`: a subset of the targets (see targets/index.ts). Default all. */
  readonly targets: readonly string[];
  /** `--workers 1,2`: worker counts of our gateway and stock Apollo Gateway. Default 1. */
  readonly workers: readonly number[];
  /** `--no-pin`: do not pin with taskset. Default: pin when taskset is available. */
  readonly pin: boolean;
  /** `--gateway-cpus 0`: CPUs of the gateway under test (overrides the plan). */
  readonly gatewayCpus: readonly number[] | undefined;
  /** `--load-cpus 1`: CPUs of the load generator, subgraphs and databases (overrides the plan). */
  readonly loadCpus: readonly number[] | undefined;
  /** `--redis`: the commerce response cache in a real Redis (needs redis-server) instead of in process. */
  readonly redis: boolean;
  /** `--out <dir>`: where `<date>.md` and `<date>.json` go. Default bench/results. */
  readonly outDir: string;
}

export const BENCH_DEFAULTS = Object.freeze({
  warmupSeconds: 10,
  durationSeconds: 20,
  rounds: 3,
  quickWarmupSeconds: 2,
  quickDurationSeconds: 5,
  quickRounds: 1,
  connections: 50,
  workers: [1],
  outDir: 'bench/results',
});

/** Thrown for a bad command line; the message names the option and the value. */
export class BenchOptionError extends Error {}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new BenchOptionError(`--${name} must be an integer ${min}-${max}, got ${JSON.stringify(raw)}`);
  return value;
}

function cpus(name: string, raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  try {
    return parseCpuList(raw);
  } catch {
    throw new BenchOptionError(`--${name} must be a CPU list such as 0 or 0,2-3, got ${JSON.stringify(raw)}`);
  }
}

export const USAGE = `npm run bench [-- options]
  --quick                 short warm-up and duration, 1 round (smoke run)
  --warmup <s>            warm-up per target before its first measured run (default ${BENCH_DEFAULTS.warmupSeconds})
  --duration <s>          one measured run (default ${BENCH_DEFAULTS.durationSeconds})
  --connections <n>       concurrent connections (default ${BENCH_DEFAULTS.connections})
  --rounds <n>            rounds of A B C D … (default ${BENCH_DEFAULTS.rounds})
  --targets <a,b>         subset of: ${TARGET_IDS.join(', ')}
  --workers <1,2>         worker counts of our gateway and stock Apollo Gateway (default 1)
  --no-pin                do not pin processes to CPUs with taskset
  --gateway-cpus <list>   CPUs of the gateway under test
  --load-cpus <list>      CPUs of the load generator and subgraphs
  --redis                 commerce response cache in a real Redis
  --out <dir>             results directory (default ${BENCH_DEFAULTS.outDir})`;

/** Parses the command line (`process.argv.slice(2)`); throws BenchOptionError. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean', default: false },
        warmup: { type: 'string' },
        duration: { type: 'string' },
        connections: { type: 'string' },
        rounds: { type: 'string' },
        targets: { type: 'string' },
        workers: { type: 'string' },
        'no-pin': { type: 'boolean', default: false },
        'gateway-cpus': { type: 'string' },
        'load-cpus': { type: 'string' },
        redis: { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new BenchOptionError(`${(error as Error).message}\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) throw new BenchOptionError(USAGE);
  const quick = v.quick === true;
  const d = BENCH_DEFAULTS;
  const targets =
    v.targets === undefined
      ? [...TARGET_IDS]
      : [
          ...new Set(
            v.targets
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean),
          ),
        ];
  const unknown = targets.filter((t) => !TARGET_IDS.includes(t));
  if (targets.length === 0 || unknown.length > 0)
    throw new BenchOptionError(
      `--targets must list some of ${TARGET_IDS.join(', ')}, got ${JSON.stringify(v.targets)}`,
    );
  const workers =
    v.workers === undefined
      ? [...d.workers]
      : [...new Set(v.workers.split(',').map((w) => integer('workers', w.trim(), 1, 1, 64)))];
  return Object.freeze({
    quick,
    warmupSeconds: integer('warmup', v.warmup, quick ? d.quickWarmupSeconds : d.warmupSeconds, 0, 600),
    durationSeconds: integer('duration', v.duration, quick ? d.quickDurationSeconds : d.durationSeconds, 1, 600),
    connections: integer('connections', v.connections, d.connections, 1, 1000),
    rounds: integer('rounds', v.rounds, quick ? d.quickRounds : d.rounds, 1, 20),
    targets: Object.freeze(targets),
    workers: Object.freeze(workers.sort((a, b) => a - b)),
    pin: v['no-pin'] !== true,
    gatewayCpus: cpus('gateway-cpus', v['gateway-cpus']),
    loadCpus: cpus('load-cpus', v['load-cpus']),
    redis: v.redis === true,
    outDir: resolve(v.out ?? d.outDir),
  });
}
