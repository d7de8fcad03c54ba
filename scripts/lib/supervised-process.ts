import { spawn, type ChildProcess } from 'node:child_process';
import { unwatchProcess, watchProcess, type StopStep } from '@commerce/kit/embedded';

/** Options of {@link SupervisedProcess}. */
export interface SupervisedProcessOptions {
  /** For logs: `gateway`, `products`… */
  name: string;
  /** Arguments of `node` (runtime flags, `--import tsx`, the entry file). */
  args: readonly string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** Answers 200 once the process serves. */
  readyUrl: string;
  log: (msg: string) => void;
  /** How long a start may take to answer `readyUrl`. Default 60000. */
  readyTimeoutMs?: number;
  /** First restart delay; doubled per crash in a row. Default 500. */
  restartDelayMs?: number;
  /** Cap of the restart delay. Default 30000. */
  maxRestartDelayMs?: number;
  /** A run this long (after ready) counts as stable: the next crash restarts after `restartDelayMs` again. Default 30000. */
  stableAfterMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL. Default 20000. */
  stopTimeoutMs?: number;
  /** Watchdog stage: processes of a lower stage are stopped first when the supervisor dies. */
  stage: number;
}

type State =
  | { phase: 'idle' }
  | { phase: 'running'; child: ChildProcess; exited: Promise<void>; since: number }
  | { phase: 'waiting'; timer: NodeJS.Timeout }
  | { phase: 'stopping'; done: Promise<void> }
  | { phase: 'stopped' };

const CRASH_LOOP = 3;

/**
 * One service process under supervision: started with `node <args>`, in its
 * own process group (a terminal's Ctrl-C reaches only the supervisor, which
 * decides the stop order), watched by the embedded watchdog so it dies with
 * the supervisor. When it exits unexpectedly it is restarted with
 * exponential backoff (capped), forever; `stop()` sends SIGTERM and waits.
 */
export class SupervisedProcess {
  private state: State = { phase: 'idle' };
  private crashesInARow = 0;
  /** Unexpected exits so far. */
  crashes = 0;
  private readonly options: Required<SupervisedProcessOptions>;

  constructor(options: SupervisedProcessOptions) {
    this.options = {
      readyTimeoutMs: 60_000,
      restartDelayMs: 500,
      maxRestartDelayMs: 30_000,
      stableAfterMs: 30_000,
      stopTimeoutMs: 20_000,
      ...options,
    };
  }

  get name(): string {
    return this.options.name;
  }

  /** PID of the running process, if any. */
  get pid(): number | undefined {
    return this.state.phase === 'running' ? this.state.child.pid : undefined;
  }

  /** Spawns the process and waits for it to be ready; rejects (and stops it) if it exits or is not ready in time. */
  async start(): Promise<void> {
    if (this.state.phase !== 'idle') throw new Error(`${this.name} was already started`);
    const started = Date.now();
    try {
      await this.spawnReady(true);
    } catch (error) {
      // A first start that fails is a startup error, not a crash to retry.
      await this.stop();
      throw error;
    }
    this.options.log(`${this.name} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${this.pid})`);
  }

  /** SIGTERM, then SIGKILL after `stopTimeoutMs`; no restart after this. Idempotent. */
  stop(): Promise<void> {
    switch (this.state.phase) {
      case 'stopping':
        return this.state.done;
      case 'stopped':
        return Promise.resolve();
      case 'idle':
        this.state = { phase: 'stopped' };
        return Promise.resolve();
      case 'waiting':
        clearTimeout(this.state.timer);
        this.state = { phase: 'stopped' };
        return Promise.resolve();
      case 'running': {
        const { child, exited } = this.state;
        const started = Date.now();
        this.options.log(`stopping ${this.name} (pid ${child.pid})`);
        const done = terminate(child, exited, [
          ['SIGTERM', this.options.stopTimeoutMs],
          ['SIGKILL', 5_000],
        ]).then(() => {
          this.state = { phase: 'stopped' };
          const how = child.signalCode ? `killed by ${child.signalCode}` : `exit code ${child.exitCode}`;
          this.options.log(`${this.name} stopped in ${((Date.now() - started) / 1000).toFixed(1)} s (${how})`);
        });
        this.state = { phase: 'stopping', done };
        return done;
      }
    }
  }

  /**
   * Spawns the process and waits for `readyUrl`. A first start that is not ready in time is
   * killed (a startup error); a restarted process is left running (it may be waiting for a
   * database to return, and serves what it can): only its exit is a crash.
   */
  private async spawnReady(killIfNotReady: boolean): Promise<void> {
    const { args, env, cwd, stage, readyUrl, readyTimeoutMs, stopTimeoutMs } = this.options;
    const child = spawn(process.execPath, args, { cwd, env, detached: true, stdio: ['ignore', 'inherit', 'inherit'] });
    const pid = child.pid;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('error', () => undefined);
    if (pid === undefined) throw new Error(`${this.name} could not be started`);
    // Services before their databases when the supervisor dies; SIGTERM drains, SIGKILL if it takes too long.
    watchProcess(pid, {
      stage,
      steps: [
        ['SIGTERM', Math.min(stopTimeoutMs, 5_000)],
        ['SIGKILL', 5_000],
      ],
    });
    this.state = { phase: 'running', child, exited, since: Date.now() };
    child.once('exit', (code, signal) => {
      unwatchProcess(pid);
      this.onExit(child, code, signal);
    });

    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `${this.name} exited while starting (code ${child.exitCode ?? 'none'}, signal ${child.signalCode ?? 'none'})`,
        );
      }
      if (this.state.phase !== 'running' || this.state.child !== child)
        throw new Error(`${this.name} was stopped while starting`);
      if (await isReady(readyUrl)) {
        this.state.since = Date.now();
        return;
      }
      if (Date.now() > deadline) {
        if (killIfNotReady) await terminate(child, exited, [['SIGKILL', 5_000]]);
        throw new Error(
          `${this.name} not ready at ${readyUrl} after ${readyTimeoutMs / 1000} s${killIfNotReady ? '' : ' (left running)'}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.state.phase !== 'running' || this.state.child !== child) return;
    const ranMs = Date.now() - this.state.since;
    this.crashes++;
    this.crashesInARow = ranMs >= this.options.stableAfterMs ? 1 : this.crashesInARow + 1;
    const delay = Math.min(this.options.restartDelayMs * 2 ** (this.crashesInARow - 1), this.options.maxRestartDelayMs);
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    const looping =
      this.crashesInARow >= CRASH_LOOP ? ` — it keeps crashing (${this.crashesInARow} times in a row)` : '';
    this.options.log(
      `${this.name} (pid ${child.pid}) ${how} after ${(ranMs / 1000).toFixed(1)} s; restarting in ${delay} ms${looping}`,
    );
    const crashedAt = Date.now();
    const timer = setTimeout(() => {
      if (this.state.phase !== 'waiting' || this.state.timer !== timer) return;
      this.spawnReady(false).then(
        () =>
          this.options.log(
            `${this.name} back up (pid ${this.pid}), ${((Date.now() - crashedAt) / 1000).toFixed(1)} s after it died`,
          ),
        (error: Error) => {
          // An exit while starting was counted by onExit, which schedules the next restart.
          this.options.log(`${this.name} restart: ${error.message}`);
        },
      );
    }, delay);
    this.state = { phase: 'waiting', timer };
  }
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** Sends each signal in turn until the process has exited. */
async function terminate(child: ChildProcess, exited: Promise<void>, steps: readonly StopStep[]): Promise<void> {
  for (const [signal, waitMs] of steps) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), waitMs).unref());
    if (await Promise.race([exited.then(() => true), timeout])) return;
  }
}
