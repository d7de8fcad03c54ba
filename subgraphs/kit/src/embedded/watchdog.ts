import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** One step of a watched process's stop: send `signal`, then wait up to `waitMs` for it to exit. */
export type StopStep = readonly [signal: NodeJS.Signals, waitMs: number];

/** How the watchdog stops a process once this one is gone. */
export interface WatchOptions {
  /** Stages run in increasing order, each waiting for its processes: services (1) before their databases (2). */
  stage: number;
  /** Signals in order until the process is gone, e.g. `[['SIGINT', 10000], ['SIGKILL', 5000]]`. */
  steps: readonly StopStep[];
}

/** What this process tells its watchdog, one JSON object per line on the watchdog's stdin. */
export type WatchdogCommand = { watch: number; stage: number; steps: readonly StopStep[] } | { unwatch: number };

const MAIN = fileURLToPath(new URL('./watchdog-main.ts', import.meta.url));
let watchdog: ChildProcess | undefined;
/** What the watchdog was told, to tell a new one if it dies before us. */
const watched = new Map<number, WatchOptions>();

/**
 * Makes sure `pid` stops when this process dies, however it dies (SIGKILL, a
 * fatal V8 error, a crash): a detached watchdog process, started on first use,
 * holds a pipe from this one; when the pipe closes (or this process's PID goes
 * away) it stops every process still watched, stage by stage. Exit hooks
 * cannot do this: a SIGKILLed or aborted process runs none.
 */
export function watchProcess(pid: number, options: WatchOptions): void {
  watched.set(pid, options);
  send({ watch: pid, stage: options.stage, steps: options.steps });
}

/** The process stopped normally (or was stopped by us): the watchdog forgets it. */
export function unwatchProcess(pid: number): void {
  if (watched.delete(pid) && watchdog) send({ unwatch: pid });
}

/** The watchdog's PID (tests check that it goes away too). Undefined before the first {@link watchProcess}. */
export function watchdogPid(): number | undefined {
  return watchdog?.pid;
}

function send(command: WatchdogCommand): void {
  const stdin = start().stdin;
  if (stdin && !stdin.destroyed) stdin.write(`${JSON.stringify(command)}\n`);
}

function start(): ChildProcess {
  if (watchdog) return watchdog;
  // Same runtime as ours (tsx), resolved from here so the working directory does not matter.
  const child = spawn(
    process.execPath,
    ['--import', createRequire(import.meta.url).resolve('tsx'), MAIN, String(process.pid)],
    {
      // Its own process group: a terminal's Ctrl-C is for us, not for it.
      detached: true,
      stdio: ['pipe', 'ignore', 'inherit'],
    },
  );
  // Neither the child nor its pipe may keep this process alive.
  child.unref();
  // The pipe is a net.Socket at runtime; its type does not say so.
  (child.stdin as (Writable & { unref?: () => void }) | null)?.unref?.();
  child.stdin?.on('error', () => undefined);
  // Killed while we live (by hand, by the OOM killer): start another and tell it everything again.
  child.once('exit', () => {
    if (watchdog !== child) return;
    watchdog = undefined;
    for (const [pid, options] of watched) send({ watch: pid, stage: options.stage, steps: options.steps });
  });
  watchdog = child;
  return child;
}
