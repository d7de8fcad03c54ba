/**
 * npm run bench:profile -- --target ours [--duration 15] [--warmup 10] [--workers 1] …
 *
 * Where one of our gateway targets spends its CPU under the benchmark's load:
 * starts the target's workload and the gateway exactly as `npm run bench`
 * does (same environment, node flags and CPU pinning), with `node --cpu-prof`
 * added, warms it up, loads it with the same load generator (every answer
 * checked), stops it with SIGTERM so V8 writes the profile, and summarizes the
 * samples taken during the measured run only (not module loading, warm-up or
 * shutdown): busy against idle time, busy time by area (package, garbage
 * collector, node internals, gateway/src/<dir>) and the top functions by self
 * time. Prints the summary and writes `<out>/<date>-profile-<target>.md`.
 * Stock Apollo Gateway cannot be profiled this way: Apollo Server re-raises
 * SIGTERM after stopping, and V8 writes no profile for a process killed by a
 * signal.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkSubject,
  cpuMsPerResponse,
  describeMachine,
  loadSpec,
  loadSubject,
  pinThisRun,
  prepareCommerce,
  prepareStandard,
  stopEverything,
  type Log,
  type PreparedWorkload,
} from './harness';
import { runBenchCommand } from './lib/cli';
import type { Pinning } from './lib/cpus';
import { bundleSources, renderProfileSummary, summarizeProfiles, type CpuProfile } from './lib/cpu-profile';
import { GATEWAY_BUNDLE } from '../scripts/build-gateway';
import type { LoadResult } from './lib/load';
import { machineLine } from './lib/report';
import {
  BENCH_DEFAULTS,
  BenchOptionError,
  type BenchOptions,
  integerOption,
  parseCommandLine,
  placementOptions,
} from './options';
import { TARGETS, type TargetDefinition } from './targets';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROFILE_DEFAULTS = Object.freeze({ durationSeconds: 15, warmupSeconds: 10, topFunctions: 30 });
/** How long the gateway may take to drain and exit after SIGTERM (V8 writes the profile on exit). */
const STOP_GRACE_MS = 60_000;

/** The profiler's options: parsed once, validated. Placement (`--no-pin`, CPUs, `--redis`, `--out`) as for npm run bench. */
interface ProfileOptions extends Pick<BenchOptions, 'pin' | 'gatewayCpus' | 'loadCpus' | 'redis' | 'outDir'> {
  /** `--target <id>`: one of our gateway's targets (targets/index.ts). Required. */
  readonly target: TargetDefinition;
  /** `--duration <s>`: the profiled run. Default 15. */
  readonly durationSeconds: number;
  /** `--warmup <s>`: load first, not counted. Default 10. */
  readonly warmupSeconds: number;
  /** `--connections <n>`. Default 50, as the benchmark. */
  readonly connections: number;
  /** `--workers <n>`: GATEWAY_WORKERS (each worker writes its profile; they are summed). Default 1. */
  readonly workers: number;
  /** `--top <n>`: functions listed. Default 30. */
  readonly topFunctions: number;
  /** `--interval <µs>`: `--cpu-prof-interval`, the sampling interval. Default node's (1000). */
  readonly intervalUs: number | undefined;
  /** `--keep <dir>`: keep the raw `.cpuprofile` files there (open them in Chrome's DevTools). Default: deleted. */
  readonly keepDir: string | undefined;
}

const PROFILABLE = TARGETS.filter((t) => t.kind === 'ours').map((t) => t.id);

const PROFILE_USAGE = `npm run bench:profile -- --target <id> [options]
  --target <id>           one of: ${PROFILABLE.join(', ')}
  --duration <s>          the profiled run (default ${PROFILE_DEFAULTS.durationSeconds})
  --warmup <s>            load before it, not counted (default ${PROFILE_DEFAULTS.warmupSeconds})
  --connections <n>       concurrent connections (default ${BENCH_DEFAULTS.connections})
  --workers <n>           GATEWAY_WORKERS (default 1)
  --top <n>               functions listed (default ${PROFILE_DEFAULTS.topFunctions})
  --interval <µs>         sampling interval (node --cpu-prof-interval, default 1000)
  --no-pin, --gateway-cpus <list>, --load-cpus <list>, --redis: as for npm run bench
  --out <dir>             results directory (default ${BENCH_DEFAULTS.outDir})
  --keep <dir>            keep the raw .cpuprofile files in <dir>`;

/** Parses the command line (`process.argv.slice(2)`); throws BenchOptionError. */
function parseProfileOptions(argv: readonly string[]): ProfileOptions {
  const v = parseCommandLine(
    argv,
    {
      target: { type: 'string' },
      top: { type: 'string' },
      interval: { type: 'string' },
      keep: { type: 'string' },
    },
    PROFILE_USAGE,
  );
  const target = TARGETS.find((t) => t.id === v.target && t.kind === 'ours');
  if (!target)
    throw new BenchOptionError(
      `--target must be one of ${PROFILABLE.join(', ')}, got ${JSON.stringify(v.target)}\n${PROFILE_USAGE}`,
    );
  return Object.freeze({
    target,
    durationSeconds: integerOption('duration', v.duration, PROFILE_DEFAULTS.durationSeconds, 1, 600),
    warmupSeconds: integerOption('warmup', v.warmup, PROFILE_DEFAULTS.warmupSeconds, 0, 600),
    connections: integerOption('connections', v.connections, BENCH_DEFAULTS.connections, 1, 1000),
    workers: integerOption('workers', v.workers, 1, 1, 64),
    topFunctions: integerOption('top', v.top, PROFILE_DEFAULTS.topFunctions, 1, 500),
    intervalUs: v.interval === undefined ? undefined : integerOption('interval', v.interval, 1000, 50, 100_000),
    ...placementOptions(v),
    keepDir: v.keep === undefined ? undefined : resolve(v.keep),
  });
}

/** A profile `--cpu-prof` wrote: `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`. */
interface ProfileFile {
  readonly file: string;
  readonly pid: number;
  /** 0: the main thread; others are worker threads (tsx's module loader). */
  readonly thread: number;
}

async function profileFiles(dir: string): Promise<ProfileFile[]> {
  const files: ProfileFile[] = [];
  for (const file of await readdir(dir)) {
    const m = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(file);
    if (m) files.push({ file: join(dir, file), pid: Number(m[1]), thread: Number(m[2]) });
  }
  return files;
}

/** What one profiled run gave. */
interface Profiled {
  readonly result: LoadResult;
  /** Main threads' profiles: the gateway's, or a cluster's primary and workers. */
  readonly profiles: ReadonlyArray<ProfileFile & { readonly profile: CpuProfile }>;
  readonly primaryPid: number;
  /** Largest sampled sum of the gateway processes' RSS while loaded. */
  readonly peakRssMiB: number;
  /** CPU ms the gateway's processes used per response in the profiled run (/proc), null without. */
  readonly cpuMsPerResponse: number | null;
}

/** Starts the target with --cpu-prof, warms it up, loads it, stops it; returns the load's result and the main threads' profiles. */
async function profileTarget(
  prepared: PreparedWorkload,
  options: ProfileOptions,
  profileDir: string,
  log: Log,
): Promise<Profiled> {
  const nodeOptions = [
    '--cpu-prof',
    '--cpu-prof-dir',
    profileDir,
    ...(options.intervalUs === undefined ? [] : ['--cpu-prof-interval', String(options.intervalUs)]),
  ];
  const subject = await prepared.start(options.target, options.workers, nodeOptions);
  await checkSubject(subject, prepared.context, log);
  log(
    `  loading ${subject.instance.key}: ${options.warmupSeconds} s warm-up, then ${options.durationSeconds} s profiled`,
  );
  // Sampling the process tree also adopts a cluster's workers, so a failed run still stops them.
  const stopSampling = subject.instance.sample();
  let result: LoadResult;
  try {
    result = await loadSubject(
      subject,
      prepared.context,
      loadSpec(subject, prepared.context, {
        connections: options.connections,
        warmupSeconds: options.warmupSeconds,
        durationSeconds: options.durationSeconds,
      }),
    );
  } finally {
    await stopSampling();
  }
  log(
    `  ${result.requestsPerSecond.toFixed(1)} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ` +
      `${result.non2xx} non-2xx, ${result.errors} errors, ${result.badBodies} bad bodies, peak RSS ${subject.instance.memory.totalMiB.toFixed(0)} MiB`,
  );
  const { child } = subject.instance;
  await child.stop(STOP_GRACE_MS);
  const status = await child.exited;
  if (status !== 0)
    throw new Error(
      `${subject.instance.key} did not exit cleanly after SIGTERM (${status}), so it wrote no profile:\n${child.stderrTail()}`,
    );
  const files = (await profileFiles(profileDir)).filter((f) => f.thread === 0);
  if (files.length === 0) throw new Error(`${subject.instance.key} wrote no CPU profile into ${profileDir}`);
  const profiles = await Promise.all(
    files.map(async (f) => ({ ...f, profile: JSON.parse(await readFile(f.file, 'utf8')) as CpuProfile })),
  );
  return {
    result,
    profiles,
    primaryPid: child.pid,
    peakRssMiB: subject.instance.memory.totalMiB,
    cpuMsPerResponse: cpuMsPerResponse(subject.instance, result),
  };
}

function renderReport(
  options: ProfileOptions,
  run: { command: string; startedAt: string; pinning: Pinning },
  { result, profiles, primaryPid, peakRssMiB, cpuMsPerResponse: cpu }: Profiled,
): string {
  const { command, startedAt, pinning } = run;
  const gatewayCpus = pinning.kind === 'pinned' ? pinning.gateway.get(options.workers) : undefined;
  const window = { fromUs: result.measuredUs.from, toUs: result.measuredUs.to };
  const summarize = (of: readonly CpuProfile[]) =>
    summarizeProfiles(of, {
      window,
      root: ROOT,
      topFunctions: options.topFunctions,
      remap: bundleSources(join(ROOT, GATEWAY_BUNDLE)),
    });
  // A cluster's primary only hands connections to the workers: its profile is listed, not summed.
  const serving = profiles.filter((p) => profiles.length === 1 || p.pid !== primaryPid);
  const summary = summarize(serving.map((p) => p.profile));
  const uncovered = profiles.filter((p) => p.profile.startTime > window.fromUs || p.profile.endTime < window.toUs);
  const perProcess = profiles.map((p) => {
    const s = summarize([p.profile]);
    const role = profiles.length === 1 ? 'gateway' : p.pid === primaryPid ? 'cluster primary (not summed)' : 'worker';
    return `- pid ${p.pid} (${role}): busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms of ${s.sampledMs.toFixed(0)} ms sampled`;
  });
  const t = options.target;
  // Workers sharing CPUs: their busy time includes waiting for one.
  const sharing = gatewayCpus !== undefined && gatewayCpus.length < options.workers ? gatewayCpus.length : 0;
  const env = Object.entries(t.env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return [
    `# CPU profile of ${t.id}, ${startedAt.slice(0, 10)}`,
    '',
    `- Command: \`${command}\``,
    machineLine(describeMachine()),
    `- Target: **${t.id}** ${t.label} (\`${env}\`${process.env.GATEWAY_EXECUTOR && !t.env.GATEWAY_EXECUTOR ? `, GATEWAY_EXECUTOR=${process.env.GATEWAY_EXECUTOR} inherited` : ''}), ${options.workers} worker${options.workers === 1 ? '' : 's'}, started as \`npm run bench\` starts it plus \`node --cpu-prof\`${options.intervalUs ? ` (every ${options.intervalUs} µs)` : ' (every 1000 µs)'}`,
    `- CPU pinning: ${pinning.description}`,
    `- Load: the benchmark's load generator (autocannon, its own process), ${options.connections} connections, ${options.warmupSeconds} s warm-up then ${options.durationSeconds} s profiled: ${result.requestsPerSecond.toFixed(1)} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ${result.valid} valid of ${result.requests} responses (${result.non2xx} non-2xx, ${result.errors} socket errors, ${result.badBodies} bad bodies); peak RSS ${peakRssMiB.toFixed(0)} MiB (profiling included)`,
    `- Counted: only samples taken while the profiled run lasted (the load generator's clock, the profiles' own). Busy time is the sampled time the thread was not idle in its event loop: its CPU time when it has a core to itself, more when it waited for one (workers sharing a CPU, neighbours). Busy time per response: **${result.requests > 0 ? ((summary.busyMs * 1000) / result.requests).toFixed(0) : '–'} µs**${sharing ? ` (${options.workers} workers on ${sharing} CPU${sharing === 1 ? '' : 's'}: not CPU time)` : ''}; CPU time per response (/proc, the gateway's processes, profiler included): **${cpu === null ? '–' : (cpu * 1000).toFixed(0)} µs**`,
    ...(uncovered.length
      ? [`- ⚠ ${uncovered.length} profile(s) do not cover the whole run (process started late or ended early).`]
      : []),
    ...perProcess,
    '',
    ...renderProfileSummary(summary),
    '',
    'Self time: the time a sample found the function itself on top of the stack (not its callees). Areas: a package under node_modules, `gateway/src/<dir>` of ours, node internals (`node:` modules: http, streams, net, timers…), native functions without a script (JSON.parse/stringify, C++ bindings), V8 itself (program), the garbage collector.',
    '',
  ].join('\n');
}

runBenchCommand(async (log) => {
  const argv = process.argv.slice(2);
  const options = parseProfileOptions(argv);
  const startedAt = new Date().toISOString();
  const pinning = pinThisRun({ ...options, workers: [options.workers] }, log);
  const tmp = await mkdtemp(join(tmpdir(), 'bench-profile-'));
  // A directory of its own, so only this run's profiles are read.
  const profileDir = options.keepDir
    ? join(options.keepDir, `${options.target.id}-${startedAt.replace(/[:.]/g, '-')}`)
    : join(tmp, 'cpu');
  await mkdir(profileDir, { recursive: true });
  try {
    const prepared =
      options.target.workload === 'standard'
        ? await prepareStandard(pinning, tmp, log, { stockWorkers: 1, keepStock: false })
        : await prepareCommerce(pinning, log, options.redis);
    const profiled = await profileTarget(prepared, options, profileDir, log);
    await prepared.stop();
    const command = ['npm run bench:profile', '--', ...argv].join(' ');
    const markdown = renderReport(options, { command, startedAt, pinning }, profiled);
    await mkdir(options.outDir, { recursive: true });
    const suffix = options.workers > 1 ? `-${options.workers}workers` : '';
    const md = join(options.outDir, `${startedAt.slice(0, 10)}-profile-${options.target.id}${suffix}.md`);
    await writeFile(md, markdown);
    process.stdout.write(`${markdown}\n`);
    log(`wrote ${relative(process.cwd(), md)}${options.keepDir ? `; raw profiles in ${profileDir}` : ''}`);
  } finally {
    await stopEverything();
    await rm(tmp, { recursive: true, force: true });
  }
});
