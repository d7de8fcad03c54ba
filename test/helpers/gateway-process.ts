import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then wait for the process to exit. Idempotent. */
  stop(): Promise<void>;
}

/** The gateway as its own OS process (`tsx gateway/src/index.ts`), routed to running subgraphs (e.g. a test platform's). */
export async function startGatewayProcess(platform: { subgraphs: Record<string, { url: string }> }, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const port = await freePort();
  const subgraphUrls = Object.entries(platform.subgraphs).map(([name, s]) => `${name}=${s.url}`).join(',');
  const child = spawn(`${root}node_modules/.bin/tsx`, ['gateway/src/index.ts'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1', SUBGRAPH_URLS: subgraphUrls },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => (children.delete(child), resolve())));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway process exited with ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${base}/ready`).then((r) => r.ok, () => false);
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
    stop() {
      stopping ??= (child.exitCode === null ? (child.kill('SIGTERM'), exited) : Promise.resolve());
      return stopping;
    },
  };
}
