import type { Logger } from './logger';

/**
 * Stops a running service on the first SIGINT or SIGTERM, then exits:
 * 0 after a clean stop, 1 if stopping failed.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, what: string): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `stopping ${what}`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, `${what} did not stop cleanly`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
