/**
 * The watchdog process (see watchdog.ts): `node --import tsx watchdog-main.ts <parent pid>`.
 * Reads watch/unwatch commands from stdin; when stdin closes or the parent is
 * gone, stops every watched process that is still the same process (same
 * start time), stage by stage, then exits.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { StopStep, WatchdogCommand } from './watchdog';

interface Watched {
  stage: number;
  steps: readonly StopStep[];
  startTime: string | undefined;
}

const parent = Number(process.argv[2]);
const watched = new Map<number, Watched>();
let stopping = false;

/** Field 22 of /proc/<pid>/stat, or undefined when the process is gone or a zombie. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

const sameProcess = (pid: number, entry: Watched): boolean =>
  entry.startTime !== undefined && startTime(pid) === entry.startTime;

async function stopOne(pid: number, entry: Watched): Promise<void> {
  for (const [signal, waitMs] of entry.steps) {
    if (!sameProcess(pid, entry)) return;
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + waitMs;
    while (sameProcess(pid, entry) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopAll(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const stages = [...new Set([...watched.values()].map((entry) => entry.stage))].sort((a, b) => a - b);
  const live = [...watched].filter(([pid, entry]) => sameProcess(pid, entry));
  if (live.length > 0)
    process.stderr.write(
      `[watchdog] process ${parent} is gone (${reason}); stopping ${live.map(([pid]) => pid).join(', ')}\n`,
    );
  for (const stage of stages)
    await Promise.all(live.filter(([, entry]) => entry.stage === stage).map(([pid, entry]) => stopOne(pid, entry)));
  process.exit(0);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return startTime(pid) !== undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Stay up through a terminal's signals; only the parent's end matters.
for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);

createInterface({ input: process.stdin })
  .on('line', (line) => {
    let command: WatchdogCommand;
    try {
      command = JSON.parse(line) as WatchdogCommand;
    } catch {
      return;
    }
    if ('unwatch' in command) watched.delete(command.unwatch);
    else
      watched.set(command.watch, { stage: command.stage, steps: command.steps, startTime: startTime(command.watch) });
  })
  .on('close', () => void stopAll('its pipe closed'));

// A backstop for a pipe end that something else still holds.
setInterval(() => {
  if (process.ppid !== parent || !isAlive(parent)) void stopAll('its PID is gone');
}, 500);
