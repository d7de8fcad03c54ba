import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from '@commerce/common';

const METRICS_REQUEST = 'commerce:cluster-metrics';
const METRICS_RESPONSE = 'commerce:cluster-metrics-result';

interface MetricsMessage {
  type: typeof METRICS_REQUEST | typeof METRICS_RESPONSE;
  id: string;
  text?: string;
  error?: string;
}

/**
 * Runs `workers` gateway processes sharing one listening port (node:cluster).
 * The primary restarts a worker that dies (at most 5 times a minute), answers
 * workers' requests for metrics aggregated over all of them, and on SIGINT or
 * SIGTERM stops every worker (SIGTERM, then SIGKILL after `stopTimeoutMs`).
 */
export function runClusterPrimary(workers: number, logger: Logger, stopTimeoutMs = 30_000): void {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  const restarts: number[] = [];

  const fork = (): Worker => cluster.fork();
  for (let i = 0; i < workers; i++) fork();

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    const now = Date.now();
    restarts.push(now);
    while (restarts.length && restarts[0]! < now - 60_000) restarts.shift();
    if (restarts.length > 5) {
      logger.fatal({ pid: worker.process.pid, code, signal }, 'gateway workers keep dying; giving up');
      process.exit(1);
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'gateway worker died; starting another');
    fork();
  });

  cluster.on('message', (worker, message: MetricsMessage) => {
    if (message?.type !== METRICS_REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: METRICS_RESPONSE, id: message.id, text } satisfies MetricsMessage),
      (error: Error) =>
        worker.send({ type: METRICS_RESPONSE, id: message.id, error: error.message } satisfies MetricsMessage),
    );
  });

  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'stopping gateway workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }, stopTimeoutMs).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/**
 * In a cluster worker: lets the primary collect this worker's registry, and
 * returns a function giving the metrics of ALL workers (what `/metrics`
 * should show, whichever worker a scrape lands on). Undefined outside a cluster.
 */
export function clusterMetricsText(registry: Registry): (() => Promise<string>) | undefined {
  if (!cluster.isWorker) return undefined;
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs the worker's answer to the primary's collection requests
  const pending = new Map<string, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  process.on('message', (message: MetricsMessage) => {
    if (message?.type !== METRICS_RESPONSE) return;
    const waiter = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.text ?? '');
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = randomUUID();
      pending.set(id, { resolve, reject });
      process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsMessage);
      setTimeout(() => {
        if (pending.delete(id)) reject(new Error('cluster metrics timed out'));
      }, 5000).unref();
    });
}
