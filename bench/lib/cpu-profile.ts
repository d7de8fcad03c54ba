/**
 * Where a process's CPU time went, from the V8 CPU profiles `node --cpu-prof`
 * writes: busy against idle time, busy time by area (a package, the garbage
 * collector, node's internals, a directory of ours) and the functions with
 * the most self time. Samples outside a time window (module loading, the
 * warm-up, the shutdown) can be left out.
 */
import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload, type SourceMapping } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A V8 CPU profile as `node --cpu-prof` writes it (the fields read here). */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      /** 0-based. */
      readonly lineNumber: number;
      /** 0-based. */
      readonly columnNumber?: number;
    };
  }>;
  /** Microseconds of the profiled process's monotonic clock (Linux: CLOCK_MONOTONIC, as `process.hrtime`). */
  readonly startTime: number;
  readonly endTime: number;
  /** Node id of each sample's top frame. */
  readonly samples: readonly number[];
  /** Microseconds from the previous sample (the first: from `startTime`). */
  readonly timeDeltas: readonly number[];
}

/** Options of {@link summarizeProfiles}. */
export interface SummaryOptions {
  /**
   * Only samples taken in this window count, in the profiles' clock (µs; on Linux the same clock as
   * `process.hrtime.bigint() / 1000n` in any process of the machine). Default: every sample.
   */
  readonly window?: { readonly fromUs: number; readonly toUs: number };
  /** Repository root: its files are named relative to it, `gateway/src/<dir>` being an area each. Default: none. */
  readonly root?: string;
  /** How many functions to list, most self time first. Default 30. */
  readonly topFunctions?: number;
  /** Maps a frame of built code to its source (see {@link bundleSources}). Default: frames as recorded. */
  readonly remap?: (frame: CallFrame) => CallFrame;
}

type CallFrame = CpuProfile['nodes'][number]['callFrame'];

/**
 * Maps frames of a bundle (our gateway's `dist/gateway.mjs`) to the sources it was built from, through
 * its source map (node's own `SourceMap`), so that the summary names `gateway/src/<dir>` again.
 * Frames elsewhere, and every frame when the map is missing, are left as they are.
 */
export function bundleSources(bundlePath: string): (frame: CallFrame) => CallFrame {
  let map: SourceMap;
  try {
    map = new SourceMap(JSON.parse(readFileSync(`${bundlePath}.map`, 'utf8')) as SourceMapPayload);
  } catch {
    return (frame) => frame;
  }
  const bundleUrl = pathToFileURL(bundlePath).href;
  return (frame) => {
    if (frame.url !== bundleUrl && frame.url !== bundlePath) return frame;
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber ?? 0) as Partial<SourceMapping>;
    if (!entry.originalSource) return frame;
    const source = entry.originalSource.startsWith('file:')
      ? entry.originalSource
      : pathToFileURL(resolve(dirname(bundlePath), entry.originalSource)).href;
    return { ...frame, url: source, lineNumber: entry.originalLine ?? frame.lineNumber };
  };
}

/** An area's or a function's share of the busy time. */
export interface Share {
  readonly ms: number;
  /** Of the busy time, 0-1. */
  readonly share: number;
}

export interface ProfileSummary {
  /** Profiles summed (one per process or thread). */
  readonly profiles: number;
  /** Samples counted (in the window). */
  readonly samples: number;
  /** Time the counted samples cover, summed over the profiles. */
  readonly sampledMs: number;
  /** Of it, time the thread ran something (everything but `(idle)`). */
  readonly busyMs: number;
  readonly idleMs: number;
  /** Busy time by area, largest first. */
  readonly areas: ReadonlyArray<Share & { readonly area: string }>;
  /** The functions with the most self time, largest first. */
  readonly functions: ReadonlyArray<
    Share & { readonly name: string; readonly location: string; readonly area: string }
  >;
}

/** Areas of frames V8 reports without a script. */
const SPECIAL: Readonly<Record<string, string>> = {
  '(garbage collector)': 'garbage collector',
  '(program)': 'V8 and native code not attributed to a JS function (program)',
  '(idle)': 'idle',
  '(root)': 'root',
};
const NATIVE = 'native functions (V8 builtins such as JSON.parse, C++ bindings)';
export const IDLE_AREA = SPECIAL['(idle)']!;

/** A script's path: a `file://` URL becomes a path; `node:` and other URLs stay as they are. */
function pathOf(url: string): string {
  if (!url.startsWith('file://')) return url;
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}

/** Which area a frame belongs to: a package, node's internals, a directory of the repository, or V8's own. */
export function areaOf(frame: { functionName: string; url: string }, root?: string): string {
  const { functionName, url } = frame;
  if (url === '') return SPECIAL[functionName] ?? NATIVE;
  if (url.startsWith('node:')) return 'node internals';
  if (url.startsWith('wasm://')) return 'WebAssembly';
  const path = pathOf(url);
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const [scope, name] = path.slice(modules + 'node_modules/'.length).split('/');
    return scope?.startsWith('@') ? `${scope}/${name}` : scope!;
  }
  const base = root === undefined ? undefined : root.endsWith('/') ? root : `${root}/`;
  if (base && path.startsWith(base)) {
    const parts = path.slice(base.length).split('/');
    // gateway/src/<dir> per directory (files right in gateway/src together); elsewhere the package: common/src, subgraphs/users, bench/…
    if (parts[0] === 'gateway' && parts[1] === 'src')
      return parts.length > 3 ? `gateway/src/${parts[2]}` : 'gateway/src (top level)';
    if (parts[0] === 'subgraphs' && parts.length > 2) return `subgraphs/${parts[1]}`;
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return `other: ${path}`;
}

/** Where a function is, short: a package's file, a repository path, or a node: module; with its 1-based line when known. */
function locationOf(frame: { url: string; lineNumber: number }, root?: string): string {
  if (frame.url === '') return '(native)';
  let path = pathOf(frame.url);
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) path = path.slice(modules + 'node_modules/'.length);
  else if (root && path.startsWith(root)) path = path.slice(root.length).replace(/^\//, '');
  // Scripts compiled on the fly (tsx's TypeScript) report every function on line 0: no line is better than a wrong one.
  return frame.lineNumber > 0 ? `${path}:${frame.lineNumber + 1}` : path;
}

/**
 * Sums the self time of every sample, per area and per function, over one or more profiles (a
 * process's main thread, or each worker of a cluster). A sample's time runs until the next sample
 * (the last one's until `endTime`), as Chrome's DevTools count it.
 */
export function summarizeProfiles(profiles: readonly CpuProfile[], options: SummaryOptions = {}): ProfileSummary {
  const { window, root } = options;
  const areaTime = new Map<string, number>();
  const functionTime = new Map<string, { name: string; location: string; area: string; us: number }>();
  let samples = 0;
  let sampledUs = 0;
  for (const profile of profiles) {
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const frames = new Map<number, { area: string; key: string; name: string; location: string }>();
    let at = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      at += profile.timeDeltas[i] ?? 0;
      const next = i + 1 < profile.samples.length ? at + (profile.timeDeltas[i + 1] ?? 0) : profile.endTime;
      if (window && (at < window.fromUs || at >= window.toUs)) continue;
      // V8 occasionally records samples slightly out of order: a negative delta counts as nothing.
      const us = Math.max(0, next - at);
      const id = profile.samples[i]!;
      let frame = frames.get(id);
      if (!frame) {
        const recorded = nodes.get(id)?.callFrame ?? { functionName: '(unknown)', url: '', lineNumber: -1 };
        const callFrame = options.remap ? options.remap(recorded) : recorded;
        const area = areaOf(callFrame, root);
        const name = callFrame.functionName || '(anonymous)';
        const location = locationOf(callFrame, root);
        frame = { area, key: `${area}\u0000${name}\u0000${location}`, name, location };
        frames.set(id, frame);
      }
      samples++;
      sampledUs += us;
      areaTime.set(frame.area, (areaTime.get(frame.area) ?? 0) + us);
      if (frame.area === IDLE_AREA) continue;
      const f = functionTime.get(frame.key);
      if (f) f.us += us;
      else functionTime.set(frame.key, { name: frame.name, location: frame.location, area: frame.area, us });
    }
  }
  const idleUs = areaTime.get(IDLE_AREA) ?? 0;
  const busyUs = sampledUs - idleUs;
  const share = (us: number) => ({ ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 });
  return {
    profiles: profiles.length,
    samples,
    sampledMs: sampledUs / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    areas: [...areaTime]
      .filter(([area]) => area !== IDLE_AREA)
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({ area, ...share(us) })),
    functions: [...functionTime.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, options.topFunctions ?? 30)
      .map(({ name, location, area, us }) => ({ name, location, area, ...share(us) })),
  };
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const ms = (value: number) => value.toFixed(value >= 100 ? 0 : 1);

/** The summary as Markdown: a busy/idle line, the areas' table, the functions' table. */
export function renderProfileSummary(summary: ProfileSummary): string[] {
  const busyShare = summary.sampledMs > 0 ? summary.busyMs / summary.sampledMs : 0;
  return [
    `Sampled ${ms(summary.sampledMs)} ms (${summary.samples} samples, ${summary.profiles} profile${summary.profiles === 1 ? '' : 's'}): busy ${ms(summary.busyMs)} ms (${pct(busyShare)}), idle ${ms(summary.idleMs)} ms (${pct(1 - busyShare)}).`,
    '',
    '| area | % of busy | ms |',
    '|---|---:|---:|',
    ...summary.areas.map((a) => `| ${a.area} | ${pct(a.share)} | ${ms(a.ms)} |`),
    '',
    `Top ${summary.functions.length} functions by self time:`,
    '',
    '| function | where | area | % of busy | ms |',
    '|---|---|---|---:|---:|',
    ...summary.functions.map((f) => `| \`${f.name}\` | ${f.location} | ${f.area} | ${pct(f.share)} | ${ms(f.ms)} |`),
  ];
}
