/** What a load loop saw. */
export interface LoadReport {
  /** Requests answered 200 with data and no errors. */
  ok: number;
  failed: number;
  /** The first few failures, for the assertion message. */
  failures: string[];
}

export interface LoadLoop {
  /** Requests finished so far (ok + failed). */
  completed(): number;
  /** Stops sending and resolves when every in-flight request has finished. */
  stop(): Promise<LoadReport>;
}

export interface LoadOptions {
  url: string;
  query: string;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /** Upper bound on requests, whatever happens. Default 20,000. */
  maxRequests?: number;
  /** Upper bound on duration, whatever happens. Default 120 s. */
  maxMs?: number;
}

/**
 * A bounded closed-loop load: `concurrency` workers each send the query and
 * send again when it answers, until `stop()`, `maxRequests` or `maxMs`. A
 * request fails if it is not HTTP 200 with data and without errors.
 */
export function startLoad({
  url,
  query,
  concurrency = 4,
  maxRequests = 20_000,
  maxMs = 120_000,
}: LoadOptions): LoadLoop {
  const report: LoadReport = { ok: 0, failed: 0, failures: [] };
  const deadline = Date.now() + maxMs;
  let sent = 0;
  let stopped = false;
  const body = JSON.stringify({ query });

  async function once(): Promise<void> {
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const text = await response.text();
      const parsed = JSON.parse(text) as { data?: unknown; errors?: unknown[] };
      if (response.status === 200 && parsed.data && !parsed.errors) {
        report.ok++;
        return;
      }
      throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
    } catch (error) {
      report.failed++;
      if (report.failures.length < 5) report.failures.push((error as Error).message);
    }
  }

  async function worker(): Promise<void> {
    while (!stopped && sent < maxRequests && Date.now() < deadline) {
      sent++;
      await once();
    }
  }

  const workers = Promise.all(Array.from({ length: concurrency }, worker));
  return {
    completed: () => report.ok + report.failed,
    async stop() {
      stopped = true;
      await workers;
      return report;
    },
  };
}
