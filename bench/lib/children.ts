import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isSameProcess, type ProcessSample } from './proc';

/** What to run as a child process of the benchmark. */
export interface ChildSpec {
  /** Shown in errors and the report. */
  name: string;
  /** Node script, run from the repository root as `node [nodeOptions] --import tsx <script>` (`.ts`) or `node [nodeOptions] <script>`. */
  script: string;
  /** Flags for node itself (e.g. heap limits), before the script. */
  nodeOptions?: readonly string[];
  args?: readonly string[];
  /** Added to this process's environment. */
  env?: Readonly<Record<string, string>>;
  /** CPUs to pin it to with `taskset`; none: inherit this process's affinity. */
  cpus?: readonly number[];
  /** Written to its stdin, which is then closed. */
  stdin?: string;
  /** Repository root. */
  cwd: string;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) when the process exits. */
  readonly exited: Promise<number | string>;
  /** Exit code or signal once exited, else undefined. */
  exitStatus(): number | string | undefined;
  /** Everything it wrote to stdout. */
  stdout(): string;
  /** The last few KB it wrote to stderr. */
  stderrTail(): string;
  /** Remembers processes seen in its tree (cluster workers), so they are stopped with it. */
  adopt(tree: readonly ProcessSample[]): void;
  /** SIGTERM, then SIGKILL after `graceMs`, then the same for any descendant still alive. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const STDERR_TAIL = 8192;
const STDOUT_LIMIT = 4 * 1024 * 1024;

interface Known {
  readonly pid: number;
  readonly startTime: string | undefined;
}

/** Every child and descendant started by this process, for the exit safety net. */
const live = new Map<ChildProcess, Set<Known>>();
const started: Array<{ name: string } & Known> = [];
const stoppers = new Set<() => Promise<void>>();

function startTimeSync(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function killSync(known: Known): void {
  // Never signal a PID that now belongs to someone else.
  if (known.startTime !== undefined && startTimeSync(known.pid) !== known.startTime) return;
  try {
    process.kill(known.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

process.on('exit', () => {
  for (const [child, descendants] of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const known of descendants) killSync(known);
  }
});

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Starts a child process, pinned with taskset when `cpus` is given (taskset execs, so the PID is the child's). */
export function spawnChild(spec: ChildSpec): Child {
  // TypeScript runs through tsx; a built bundle (our gateway's dist/gateway.mjs) runs on node alone.
  const loader = spec.script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const nodeArgs = [...(spec.nodeOptions ?? []), ...loader, spec.script, ...(spec.args ?? [])];
  const [command, args] = spec.cpus?.length
    ? ['taskset', ['-c', spec.cpus.join(','), process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const child = spawn(command, args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const descendants = new Set<Known>();
  live.set(child, descendants);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    if (out.length < STDOUT_LIMIT) out += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => (err = (err + chunk.toString()).slice(-STDERR_TAIL)));
  if (spec.stdin !== undefined) child.stdin!.end(spec.stdin);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.once('error', (error) => {
      err += `\n${error.message}`;
      resolve('spawn-error');
    });
  });
  let status: number | string | undefined;
  void exited.then((s) => (status = s));
  if (child.pid !== undefined) started.push({ name: spec.name, pid: child.pid, startTime: startTimeSync(child.pid) });
  let stopping: Promise<void> | undefined;

  async function stopNow(graceMs: number): Promise<void> {
    if (status === undefined) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), delay(graceMs).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await Promise.race([exited, delay(5000)]);
      }
    }
    for (const known of descendants) {
      if (known.pid === child.pid || !(await isSameProcess(known.pid, known.startTime))) continue;
      try {
        process.kill(known.pid, 'SIGTERM');
      } catch {
        continue;
      }
      for (let waited = 0; waited < graceMs && (await isSameProcess(known.pid, known.startTime)); waited += 100)
        await delay(100);
      if (await isSameProcess(known.pid, known.startTime)) killSync(known);
    }
    live.delete(child);
  }

  const stop = (graceMs = 10_000): Promise<void> => {
    stopping ??= stopNow(graceMs).finally(() => stoppers.delete(stop));
    return stopping;
  };
  stoppers.add(stop);

  return {
    name: spec.name,
    pid: child.pid ?? -1,
    exited,
    exitStatus: () => status,
    stdout: () => out,
    stderrTail: () => err,
    adopt(tree) {
      for (const p of tree) {
        if (p.pid === child.pid || [...descendants].some((d) => d.pid === p.pid)) continue;
        descendants.add({ pid: p.pid, startTime: p.startTime });
        started.push({ name: `${spec.name} (child of ${p.ppid})`, pid: p.pid, startTime: p.startTime });
      }
    },
    stop,
  };
}

/** Every process this module started or adopted, in order (the report lists them; all must be gone at the end). */
export function startedProcesses(): ReadonlyArray<{ readonly name: string } & Known> {
  return started;
}

/** Stops every child still running (the normal path stops each one itself; this is the failure path). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...stoppers].map((stop) => stop()));
}
