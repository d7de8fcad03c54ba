import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports';
import { TEST_AUTH_ENV } from './tokens';
import { assertNoExecutorMismatch, jsonLines, mismatchesOf } from './executor-mismatch';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  /** PID of the node process that serves (`pid` is the tsx wrapper that started it): signal this one to test the server itself. */
  readonly serverPid: number;
  /** Settles when the process has exited, with its exit code (the wrapper passes the server's on). */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then wait for the process to exit. Idempotent. */
  stop(): Promise<void>;
}

/** The gateway as its own OS process (`tsx gateway/src/index.ts`), routed to running subgraphs (e.g. a test platform's). */
export async function startGatewayProcess(
  platform: { subgraphs: Record<string, { url: string }> },
  env: Record<string, string> = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const subgraphUrls = Object.entries(platform.subgraphs)
    .map(([name, s]) => `${name}=${s.url}`)
    .join(',');
  const child = spawn(`${root}node_modules/.bin/tsx`, ['gateway/src/index.ts'], {
    cwd: root,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      // Every answer is checked against @apollo/gateway's executor; stop() fails on a difference.
      GATEWAY_EXECUTOR: 'verify',
      // Client tokens and the internal identity of test/helpers/tokens.ts (the test platform's subgraphs trust it).
      ...TEST_AUTH_ENV,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SUBGRAPH_URLS: subgraphUrls,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const mismatches = mismatchesOf();
  child.stdout!.on('data', jsonLines(mismatches.see));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => (children.delete(child), resolve(code))),
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway process exited with ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${base}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway process not ready within 30 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  let stopping: Promise<void> | undefined;
  return {
    url: `${base}/graphql`,
    pid: child.pid!,
    serverPid: childPids(child.pid!)[0] ?? child.pid!,
    exited,
    stop() {
      stopping ??= (
        child.exitCode === null ? (child.kill('SIGTERM'), exited.then(() => undefined)) : Promise.resolve()
      ).then(() => assertNoExecutorMismatch(mismatches.found));
      return stopping;
    },
  };
}

/** The direct children of a process (from /proc). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
