import cluster from 'node:cluster';
import { pathToFileURL } from 'node:url';
import { runClusterPrimary } from './cluster';
import { createLogger, startTelemetry, stopOnSignals } from '@commerce/common';
import { loadGatewayConfig } from './config';
import { startGateway } from './server';

export { loadGatewayConfig } from './config';
export type { GatewayConfig, SupergraphSource } from './config';
export { createGateway, startGateway } from './server';
export type { Gateway, GatewayOptions, RunningGateway } from './server';
export type { GatewayMetrics } from './metrics';
export { loadManifest } from './persisted/manifest';
export type { Manifest, ManifestOperation } from './persisted/manifest';
export type { GatewayFeature, OperationFacts } from './features/feature';

/** Runs the gateway from `process.env` until SIGINT or SIGTERM; with GATEWAY_WORKERS > 1, as a node:cluster of workers. */
async function main(): Promise<void> {
  const logger = createLogger('gateway');
  const config = loadGatewayConfig(process.env);
  if (config.workers > 1 && cluster.isPrimary) {
    logger.info({ workers: config.workers, port: config.port }, 'starting gateway workers');
    runClusterPrimary(config.workers, logger, config.shutdown.delayMs + config.shutdown.timeoutMs + 10_000);
    return;
  }
  // Before the gateway starts, so that its requests are traced (only when OTEL_EXPORTER_OTLP_ENDPOINT is set).
  const telemetry = startTelemetry(config.telemetry, 'gateway');
  const running = await startGateway(config, { logger });
  logger.info({ url: running.url, production: config.production }, 'gateway listening');
  // Spans still batched are flushed once the requests in flight are done.
  stopOnSignals(() => running.stop().finally(() => telemetry.shutdown()), logger, 'gateway', config.shutdown);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    createLogger('gateway').fatal({ err: error }, 'gateway failed to start');
    process.exit(1);
  });
}
