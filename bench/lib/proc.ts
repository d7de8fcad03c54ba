import { execFile, execFileSync } from 'node:child_process';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { promisify } from 'node:util';

/** One process of a target's tree, as sampled. */
export interface ProcessSample {
  readonly pid: number;
  readonly ppid: number;
  /** Kernel start time (clock ticks since boot, Linux): tells a PID apart from a later process that reuses it. */
  readonly startTime: string | undefined;
  /** Resident set size now, KiB. */
  readonly rssKiB: number;
  /** Peak resident set size of the process's life (VmHWM, Linux), KiB. */
  readonly peakRssKiB: number | undefined;
  /** True when the process runs this Node binary (not a helper such as esbuild's service). */
  readonly isNode: boolean;
  /** CPU time used so far (user + system), clock ticks (Linux); undefined elsewhere. */
  readonly cpuTicks: number | undefined;
}

const LINUX = process.platform === 'linux';
const NODE_EXE = realpathSync(process.execPath);
const execFileAsync = promisify(execFile);

interface StatLine {
  pid: number;
  ppid: number;
  startTime: string;
  /** utime + stime, clock ticks. */
  cpuTicks: number;
}

function parseStat(pid: number, text: string): StatLine {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime and stime fields 14 and 15, starttime field 22.
  return { pid, ppid: Number(fields[1]), startTime: fields[19]!, cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

/** `/proc/<pid>/stat`: the command name is in parentheses and may contain spaces, so fields are counted after the last ')'. */
async function readStat(pid: number): Promise<StatLine | undefined> {
  try {
    return parseStat(pid, await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // exited meanwhile
  }
}

async function linuxTree(rootPid: number): Promise<ProcessSample[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const stats = (await Promise.all(pids.map(readStat))).filter((s): s is StatLine => s !== undefined);
  const children = new Map<number, StatLine[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  const root = stats.find((s) => s.pid === rootPid);
  if (!root) return [];
  const members: StatLine[] = [];
  // A process tree is finite and acyclic; the bound only guards against a corrupt read.
  for (let queue = [root]; queue.length > 0 && members.length < 10_000;) {
    const next = queue.shift()!;
    members.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  const samples = await Promise.all(
    members.map(async (stat): Promise<ProcessSample | undefined> => {
      try {
        const status = await readFile(`/proc/${stat.pid}/status`, 'utf8');
        const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
        const exe = await readlink(`/proc/${stat.pid}/exe`).catch(() => '');
        return {
          pid: stat.pid,
          ppid: stat.ppid,
          startTime: stat.startTime,
          rssKiB: kib('VmRSS'),
          peakRssKiB: kib('VmHWM'),
          isNode: exe === NODE_EXE,
          cpuTicks: stat.cpuTicks,
        };
      } catch {
        return undefined;
      }
    }),
  );
  return samples.filter((s): s is ProcessSample => s !== undefined);
}

/** Elsewhere (macOS): `ps`, without per-process peaks. */
async function psTree(rootPid: number): Promise<ProcessSample[]> {
  const { stdout } = await execFileAsync('ps', ['-A', '-o', 'pid=,ppid=,rss=,comm=']);
  const rows = stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), rssKiB: Number(m[3]), comm: m[4]! }));
  const members: typeof rows = [];
  for (let queue = rows.filter((r) => r.pid === rootPid); queue.length > 0 && members.length < 10_000;) {
    const next = queue.shift()!;
    members.push(next);
    queue.push(...rows.filter((r) => r.ppid === next.pid));
  }
  return members.map((r) => ({
    pid: r.pid,
    ppid: r.ppid,
    startTime: undefined,
    rssKiB: r.rssKiB,
    peakRssKiB: undefined,
    isNode: /node/.test(r.comm),
    cpuTicks: undefined,
  }));
}

/** The process `rootPid` and all its descendants, with their memory; empty once it has exited. */
export function processTree(rootPid: number): Promise<ProcessSample[]> {
  return LINUX ? linuxTree(rootPid) : psTree(rootPid);
}

/** True if `pid` is still the process that was sampled with `startTime` (never signal a reused PID). */
export async function isSameProcess(pid: number, startTime: string | undefined): Promise<boolean> {
  if (LINUX) {
    const stat = await readStat(pid);
    return stat !== undefined && (startTime === undefined || stat.startTime === startTime);
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Memory of a target over its runs: the peak of the tree's total and the largest single process. */
export interface MemoryPeak {
  /** Largest sampled sum of RSS over the tree's Node processes, MiB. */
  totalMiB: number;
  /** Largest peak RSS of one Node process (VmHWM on Linux, else the largest sample), MiB. */
  perProcessMiB: number;
  /** Most Node processes seen in the tree at once (a cluster primary plus its workers, or 1). */
  processes: number;
  samples: number;
}

export function emptyPeak(): MemoryPeak {
  return { totalMiB: 0, perProcessMiB: 0, processes: 0, samples: 0 };
}

/** Folds one sample of a tree into `peak`. */
export function addSample(peak: MemoryPeak, tree: readonly ProcessSample[]): void {
  const nodes = tree.filter((p) => p.isNode);
  if (nodes.length === 0) return;
  const mib = (kib: number) => kib / 1024;
  peak.samples++;
  peak.processes = Math.max(peak.processes, nodes.length);
  peak.totalMiB = Math.max(peak.totalMiB, mib(nodes.reduce((n, p) => n + p.rssKiB, 0)));
  peak.perProcessMiB = Math.max(peak.perProcessMiB, ...nodes.map((p) => mib(p.peakRssKiB ?? p.rssKiB)));
}

/** Clock ticks per second of /proc CPU times (Linux); NaN elsewhere. */
export const CLOCK_TICKS = existsSync('/proc/self/stat')
  ? Number(execFileSync('getconf', ['CLK_TCK']).toString())
  : NaN;

/** CPU ticks (user + system) of a process and its direct children (a service runs under the tsx launcher); NaN without /proc. */
export function cpuTicks(pid: number): number {
  if (Number.isNaN(CLOCK_TICKS)) return NaN;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  let ticks = 0;
  for (const id of [pid, ...children]) ticks += parseStat(id, readFileSync(`/proc/${id}/stat`, 'utf8')).cpuTicks;
  return ticks;
}

/** A process tree's CPU time used so far, taken at `atUs` (µs of the monotonic clock, `process.hrtime`). */
export interface CpuSample {
  readonly atUs: number;
  /** Summed over the tree's processes, clock ticks. */
  readonly ticks: number;
}

/** The tree's CPU time so far, or undefined without /proc. */
export function treeCpuTicks(tree: readonly ProcessSample[]): number | undefined {
  let ticks = 0;
  for (const p of tree) {
    if (p.cpuTicks === undefined) return undefined;
    ticks += p.cpuTicks;
  }
  return tree.length ? ticks : undefined;
}

/**
 * CPU seconds the sampled tree used between `fromUs` and `toUs`, interpolating linearly between the samples around
 * each end; undefined unless samples bracket both ends (samples in time order).
 */
export function cpuSecondsBetween(samples: readonly CpuSample[], fromUs: number, toUs: number): number | undefined {
  const at = (t: number): number | undefined => {
    const after = samples.findIndex((s) => s.atUs >= t);
    if (after < 0) return undefined;
    const b = samples[after]!;
    if (b.atUs === t) return b.ticks;
    if (after === 0) return undefined;
    const a = samples[after - 1]!;
    return a.ticks + ((b.ticks - a.ticks) * (t - a.atUs)) / (b.atUs - a.atUs);
  };
  const from = at(fromUs);
  const to = at(toUs);
  return from === undefined || to === undefined || Number.isNaN(CLOCK_TICKS) ? undefined : (to - from) / CLOCK_TICKS;
}
