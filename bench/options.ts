import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
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
  /** `--name <label>`: the results are `<date>-<label>.md` and `.json`, so runs of one day keep apart. Default none. */
  readonly name: string | undefined;
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

/** `--<name>`'s integer value in [min, max], or `fallback` when absent; throws BenchOptionError naming it. */
export function integerOption(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new BenchOptionError(`--${name} must be an integer ${min}-${max}, got ${JSON.stringify(raw)}`);
  return value;
}

/** `--<name>`'s CPU list (`0,2-3`), or undefined when absent; throws BenchOptionError naming it. */
export function cpuListOption(name: string, raw: string | undefined): number[] | undefined {
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
  --out <dir>             results directory (default ${BENCH_DEFAULTS.outDir})
  --name <label>          results file <date>-<label>.md/.json instead of <date>.md/.json`;

/** `--name`: a label that is safe in a file name. */
function resultsLabel(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(raw))
    throw new BenchOptionError(
      `--name must be letters, digits, '.', '_' or '-' (at most 64), got ${JSON.stringify(raw)}`,
    );
  return raw;
}

/** Options every benchmark command takes (npm run bench, bench:profile), as node:util's parseArgs declares them. */
const SHARED_OPTIONS = {
  warmup: { type: 'string' },
  duration: { type: 'string' },
  connections: { type: 'string' },
  workers: { type: 'string' },
  'no-pin': { type: 'boolean', default: false },
  'gateway-cpus': { type: 'string' },
  'load-cpus': { type: 'string' },
  redis: { type: 'boolean', default: false },
  out: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a benchmark command's line: the shared options and the command's `own`, strictly (no positionals);
 * an unknown option or `--help` throws BenchOptionError with the usage.
 */
export function parseCommandLine<const T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  own: T,
  usage: string,
) {
  type Config = { args: string[]; options: typeof SHARED_OPTIONS & T; strict: true; allowPositionals: false };
  let parsed: ReturnType<typeof parseArgs<Config>>;
  try {
    parsed = parseArgs<Config>({
      args: [...argv],
      options: { ...SHARED_OPTIONS, ...own },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new BenchOptionError(`${(error as Error).message}\n${usage}`);
  }
  if ((parsed.values as { help?: boolean }).help) throw new BenchOptionError(usage);
  return parsed.values;
}

/** Where the processes run and the results go, from the shared options. */
export function placementOptions(v: {
  'no-pin'?: boolean;
  'gateway-cpus'?: string;
  'load-cpus'?: string;
  redis?: boolean;
  out?: string;
}): Pick<BenchOptions, 'pin' | 'gatewayCpus' | 'loadCpus' | 'redis' | 'outDir'> {
  return {
    pin: v['no-pin'] !== true,
    gatewayCpus: cpuListOption('gateway-cpus', v['gateway-cpus']),
    loadCpus: cpuListOption('load-cpus', v['load-cpus']),
    redis: v.redis === true,
    outDir: resolve(v.out ?? BENCH_DEFAULTS.outDir),
  };
}

/** Parses the command line (`process.argv.slice(2)`); throws BenchOptionError. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const v = parseCommandLine(
    argv,
    {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      targets: { type: 'string' },
      name: { type: 'string' },
    },
    USAGE,
  );
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
      : [...new Set(v.workers.split(',').map((w) => integerOption('workers', w.trim(), 1, 1, 64)))];
  return Object.freeze({
    quick,
    warmupSeconds: integerOption('warmup', v.warmup, quick ? d.quickWarmupSeconds : d.warmupSeconds, 0, 600),
    durationSeconds: integerOption('duration', v.duration, quick ? d.quickDurationSeconds : d.durationSeconds, 1, 600),
    connections: integerOption('connections', v.connections, d.connections, 1, 1000),
    rounds: integerOption('rounds', v.rounds, quick ? d.quickRounds : d.rounds, 1, 20),
    targets: Object.freeze(targets),
    workers: Object.freeze(workers.sort((a, b) => a - b)),
    ...placementOptions(v),
    name: resultsLabel(v.name),
  });
}
