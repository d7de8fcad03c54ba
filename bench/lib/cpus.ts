import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

/** How the benchmark places processes on CPUs. */
export type Pinning =
  | {
      readonly kind: 'pinned';
      /** CPUs of the gateway under test, per worker count. */
      readonly gateway: ReadonlyMap<number, readonly number[]>;
      /** CPUs of this process: load generator, subgraphs, databases. */
      readonly load: readonly number[];
      readonly description: string;
    }
  | { readonly kind: 'none'; readonly reason: string; readonly description: string };

/** Parses a CPU list as taskset prints and takes it: `0,2-4`. */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`not a CPU list: ${JSON.stringify(text)}`);
    const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
    for (let cpu = from; cpu <= to && cpu - from < 4096; cpu++) cpus.push(cpu);
  }
  return [...new Set(cpus)].sort((a, b) => a - b);
}

function taskset(args: string[]): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const result = spawnSync('taskset', args, { encoding: 'utf8', timeout: 5000 });
  return result.status === 0 ? result.stdout : undefined;
}

/** The CPUs this process may run on (taskset), or undefined without taskset. */
function allowedCpus(): number[] | undefined {
  const out = taskset(['-c', '-p', String(process.pid)]);
  const list = out && /:\s*([\d,\-\s]+)$/.exec(out.trim())?.[1];
  return list ? parseCpuList(list) : undefined;
}

const list = (cpus: readonly number[]) => cpus.join(',');

/** Options of {@link planPinning}. */
export interface PinningOptions {
  /** false: no pinning at all. */
  pin: boolean;
  /** Worker counts benchmarked. */
  workers: readonly number[];
  /** Explicit CPUs of the gateway under test (every worker count). */
  gatewayCpus?: readonly number[];
  /** Explicit CPUs of the load generator and subgraphs. */
  loadCpus?: readonly number[];
}

/**
 * Gateway under test on the first CPUs (one per worker, as many as can be
 * spared), everything else on the rest, never overlapping. With fewer CPUs
 * than workers + 1, the workers share the gateway CPUs; the description says so.
 */
export function planPinning(options: PinningOptions): Pinning {
  const none = (reason: string): Pinning => ({ kind: 'none', reason, description: `none (${reason})` });
  if (!options.pin) return none('--no-pin');
  const allowed = allowedCpus();
  if (!allowed) return none('taskset unavailable');
  const maxWorkers = Math.max(...options.workers);
  let gatewayAll: readonly number[];
  let load: readonly number[];
  if (options.gatewayCpus || options.loadCpus) {
    gatewayAll = options.gatewayCpus ?? allowed.filter((cpu) => !options.loadCpus!.includes(cpu));
    load = options.loadCpus ?? allowed.filter((cpu) => !gatewayAll.includes(cpu));
  } else {
    if (allowed.length < 2) return none(`only ${allowed.length} CPU available`);
    gatewayAll = allowed.slice(0, Math.min(maxWorkers, allowed.length - 1));
    load = allowed.slice(gatewayAll.length);
  }
  if (gatewayAll.length === 0 || load.length === 0) return none('no CPU left for the gateway or the load generator');
  const gateway = new Map(
    options.workers.map((n) => [n, gatewayAll.slice(0, Math.min(n, gatewayAll.length))] as const),
  );
  const perWorkers = [...gateway].map(
    ([n, cpus]) => `${n} worker${n > 1 ? 's' : ''} on CPU ${list(cpus)}${cpus.length < n ? ' (sharing)' : ''}`,
  );
  return {
    kind: 'pinned',
    gateway,
    load,
    description: `taskset: gateway under test ${perWorkers.join('; ')}; load generator + subgraphs + harness on CPU ${list(load)}`,
  };
}

/** Pins this process (every thread) to `cpus`; its later children inherit it. */
export function pinSelf(cpus: readonly number[]): boolean {
  return taskset(['-a', '-c', '-p', list(cpus), String(process.pid)]) !== undefined;
}

/** CPUs of the machine (for the report; this process's own affinity may be narrower once pinned). */
export function cpuCount(): number {
  return cpus().length;
}
