import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';

/** How one HTTP request ended, from the client's side. */
export type Outcome =
  /** A complete response (any status). */
  | { kind: 'answered'; status: number; connection: string | undefined; body: string }
  /** The connection was refused: the server no longer accepted connections, so it never saw the request. */
  | { kind: 'refused' }
  /**
   * A fresh connection reset before any byte of a response: the listener closed between the
   * kernel's accept and the server reading the request (the server never saw it) — or the
   * server cut it at its drain timeout, which a test rules out by the exit time.
   */
  | { kind: 'reset' }
  /** Anything else (a response cut short, a timeout): a request the server accepted and dropped. */
  | { kind: 'dropped'; error: string };

/**
 * Sends one request and classifies its end. `agent: false` (default) uses a
 * fresh connection, so a failure to connect can only be a refusal; pass a
 * keep-alive agent to reuse a connection.
 */
export function request(
  url: string,
  options: {
    method?: string;
    body?: string;
    headers?: Record<string, string>;
    agent?: http.Agent | false;
    timeoutMs?: number;
  } = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
        agent: options.agent ?? false,
        headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
        timeout: options.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            kind: 'answered',
            status: res.statusCode ?? 0,
            connection: res.headers.connection,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', (error) => resolve({ kind: 'dropped', error: error.message }));
        res.on('aborted', () => resolve({ kind: 'dropped', error: 'response aborted' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    let responded = false;
    req.on('response', () => (responded = true));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve({ kind: 'refused' });
      else if (error.code === 'ECONNRESET' && !responded && !options.agent) resolve({ kind: 'reset' });
      else resolve({ kind: 'dropped', error: `${error.code ?? ''} ${error.message}` });
    });
    req.end(options.body);
  });
}

/** A GraphQL POST body. */
export const gql = (query: string, variables?: Record<string, unknown>): string => JSON.stringify({ query, variables });

/** Live (non-zombie) processes, other than this one, whose command line contains `needle`. */
export function processesMentioning(needle: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (cmdline.includes(needle) && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') found.push({ pid, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Kills a process by PID if it still exists. */
export function killQuietly(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
