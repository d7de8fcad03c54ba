import type { TargetDefinition } from '../targets';
import { spawnChild, type Child } from './children';
import { post } from './check';
import {
  addSample,
  cpuSecondsBetween,
  emptyPeak,
  processTree,
  treeCpuTicks,
  type CpuSample,
  type MemoryPeak,
} from './proc';
import { freePort } from '../../test/helpers/ports';

/** A running target: one definition at one worker count. */
export interface Instance {
  readonly definition: TargetDefinition;
  /** Requested worker count (1 for the ceiling). */
  readonly workers: number;
  /** `<target>@<workers>`. */
  readonly key: string;
  /** The GraphQL endpoint. */
  readonly url: string;
  readonly child: Child;
  /** CPUs it is pinned to, if any. */
  readonly cpus: readonly number[] | undefined;
  /** Memory over every sample taken while it was loaded. */
  readonly memory: MemoryPeak;
  /** CPU seconds its process tree used between two instants (µs, `process.hrtime`) while it was sampled; undefined if not sampled then. */
  cpuSecondsBetween(fromUs: number, toUs: number): number | undefined;
  /** Samples the process tree until the returned function is called (every `intervalMs`, bounded by that call). */
  sample(intervalMs?: number): () => Promise<void>;
  /** Stops it and every process of its tree. Idempotent. */
  stop(): Promise<void>;
}

/** How to start one target (built by the harness from its definition and the workload). */
export interface InstanceSpec {
  definition: TargetDefinition;
  workers: number;
  script: string;
  /** Flags for node itself, before the script. */
  nodeOptions?: readonly string[];
  /** Everything but PORT and HOST, which are set here. */
  env: Record<string, string>;
  /** Path of the GraphQL endpoint. */
  path: string;
  cpus: readonly number[] | undefined;
  cwd: string;
  /** How long it may take to answer its first request. Default 90 s. */
  readyTimeoutMs?: number;
}

const READY_QUERY = JSON.stringify({ query: '{ __typename }' });

/** Starts a target and waits until it answers a GraphQL request with HTTP 200; throws (with its stderr) if it exits or takes too long. */
export async function startInstance(spec: InstanceSpec): Promise<Instance> {
  const port = await freePort();
  const key = `${spec.definition.id}@${spec.workers}`;
  const child = spawnChild({
    name: key,
    script: spec.script,
    nodeOptions: spec.nodeOptions,
    env: { ...spec.env, PORT: String(port), HOST: '127.0.0.1' },
    cpus: spec.cpus,
    cwd: spec.cwd,
  });
  const url = `http://127.0.0.1:${port}${spec.path}`;
  const memory = emptyPeak();
  const cpu: CpuSample[] = [];
  const deadline = Date.now() + (spec.readyTimeoutMs ?? 90_000);
  try {
    for (;;) {
      const status = child.exitStatus();
      if (status !== undefined)
        throw new Error(`${key} exited with ${status} before it was ready:\n${child.stderrTail()}`);
      const ok = await post(url, READY_QUERY, {}, 2000).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline)
        throw new Error(`${key} did not answer within ${spec.readyTimeoutMs ?? 90_000} ms:\n${child.stderrTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch (error) {
    await child.stop(2000);
    throw error;
  }

  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  async function takeSample(): Promise<void> {
    const before = nowUs();
    const tree = await processTree(child.pid);
    // The tree is read over a few ms: its CPU times are dated halfway.
    const atUs = (before + nowUs()) / 2;
    child.adopt(tree);
    addSample(memory, tree);
    const ticks = treeCpuTicks(tree);
    if (ticks !== undefined) cpu.push({ atUs, ticks });
  }

  return {
    definition: spec.definition,
    workers: spec.workers,
    key,
    url,
    child,
    cpus: spec.cpus,
    memory,
    cpuSecondsBetween: (fromUs, toUs) => cpuSecondsBetween(cpu, fromUs, toUs),
    sample(intervalMs = 250) {
      let stopped = false;
      let wake: (() => void) | undefined;
      const loop = (async () => {
        // Bounded by stop(); a run lasts at most --duration + warm-up.
        while (!stopped) {
          await takeSample().catch(() => undefined);
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, intervalMs).unref();
          });
        }
        await takeSample().catch(() => undefined);
      })();
      return async () => {
        stopped = true;
        wake?.();
        await loop;
      };
    },
    stop: () => child.stop(),
  };
}
