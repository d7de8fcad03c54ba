import { type Agent, request } from 'node:http';
import type { HostileRequest } from './hostile';

/** What came back for one request. */
export interface Outcome {
  /** HTTP status, or 0 when the connection failed or timed out. */
  readonly status: number;
  readonly ms: number;
  /** `extensions.code` of every error in a JSON body. */
  readonly codes: readonly string[];
  /** Set when no response arrived. */
  readonly failure?: string;
  /** Sent again once because a kept-alive socket was closed under it (Node's documented client retry). */
  readonly retried?: boolean;
}

/**
 * Sends one request over `agent` exactly as generated, giving up after
 * `timeoutMs`. A request that failed with ECONNRESET on a reused kept-alive
 * socket (the server closed it as the request went out) is sent once more on
 * a fresh one, as Node's documentation advises for any keep-alive client.
 */
export async function send(base: URL, agent: Agent, hostile: HostileRequest, timeoutMs: number): Promise<Outcome> {
  const first = await sendOnce(base, agent, hostile, timeoutMs);
  if (!first.reusedSocketReset) return first.outcome;
  return { ...(await sendOnce(base, agent, hostile, timeoutMs)).outcome, retried: true };
}

function sendOnce(
  base: URL,
  agent: Agent,
  hostile: HostileRequest,
  timeoutMs: number,
): Promise<{ outcome: Outcome; reusedSocketReset?: boolean }> {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...hostile.headers };
    if (hostile.body) headers['content-length'] = hostile.body.length;
    let req: ReturnType<typeof request>;
    try {
      req = request({
        host: base.hostname,
        port: base.port,
        method: hostile.method,
        path: hostile.path,
        headers,
        agent,
        timeout: timeoutMs,
      });
    } catch (error) {
      // The client itself refuses to send it (e.g. a header it deems invalid): nothing reached the gateway.
      resolve({ outcome: { status: -1, ms: elapsed(), codes: [], failure: `not sent: ${(error as Error).message}` } });
      return;
    }
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({
        outcome: { status: 0, ms: elapsed(), codes: [], failure: error.message },
        reusedSocketReset: req.reusedSocket && error.code === 'ECONNRESET',
      }),
    );
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => resolve({ outcome: { status: 0, ms: elapsed(), codes: [], failure: error.message } }));
      res.on('end', () => {
        const codes: string[] = [];
        if (hostile.method !== 'HEAD' && String(res.headers['content-type'] ?? '').includes('json')) {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              errors?: { extensions?: { code?: unknown } }[];
            };
            for (const error of body.errors ?? []) codes.push(String(error.extensions?.code));
          } catch {
            codes.push('UNPARSABLE_RESPONSE');
          }
        }
        resolve({ outcome: { status: res.statusCode ?? 0, ms: elapsed(), codes } });
      });
    });
    req.end(hostile.body);
  });
}
