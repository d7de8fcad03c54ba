import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { unwatchProcess, watchProcess, type WatchOptions } from './watchdog';

const live = new Set<ChildProcess>();
let hooked = false;

/** After the services (stage 1): fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL. */
const POSTGRES_STOP: WatchOptions = {
  stage: 2,
  steps: [
    ['SIGINT', 10_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ],
};

/**
 * Registers a server child so that it dies with this process, however this process ends:
 * exit and signal hooks for a normal end, the watchdog for SIGKILL and fatal errors.
 */
export function trackChild(child: ChildProcess): void {
  const pid = child.pid;
  live.add(child);
  if (pid !== undefined) watchProcess(pid, POSTGRES_STOP);
  child.once('exit', () => {
    live.delete(child);
    if (pid !== undefined) unwatchProcess(pid);
  });
  installSafetyNet();
}

function quitAll(): void {
  // SIGQUIT = immediate shutdown: the postmaster takes its backends down and exits at once.
  for (const child of live) {
    try {
      child.kill('SIGQUIT');
    } catch {
      // already gone
    }
  }
}

function installSafetyNet(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', quitAll);
  // A signal that kills Node by default skips 'exit'. When nobody else handles it we
  // take the servers down and re-raise it; when the app handles it, the app stops or exits.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      if (process.listenerCount(signal) > 1) return;
      quitAll();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // An orphan reparented to a PID 1 that never reaps stays a zombie.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

export async function waitForDeath(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Stops a postmaster still serving dataDir that we did not start (left by an earlier run
 * that was SIGKILLed). Only a process whose command line names this data dir is touched.
 */
export async function stopStalePostmaster(dataDir: string, log: (msg: string) => void): Promise<void> {
  let pidFile: string;
  try {
    pidFile = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return;
  }
  const pid = Number(pidFile.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !(await servesDir(pid, dataDir))) return;
  log(`stopping postgres pid ${pid} left running in ${dataDir}`);
  for (const [signal, waitMs] of [
    ['SIGINT', 15_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    if (await waitForDeath(pid, waitMs)) return;
  }
  throw new Error(`could not stop postgres pid ${pid} serving ${dataDir}`);
}

async function servesDir(pid: number, dataDir: string): Promise<boolean> {
  try {
    const argv = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    return path.basename(argv[0] ?? '') === 'postgres' && argv.includes(path.resolve(dataDir));
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
