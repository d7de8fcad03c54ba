import { intVar } from './config';
import type { Logger } from './logger';

/** How a service shuts down, from SHUTDOWN_TIMEOUT_MS and SHUTDOWN_DELAY_MS. */
export interface ShutdownConfig {
  /** `SHUTDOWN_TIMEOUT_MS`: how long requests in flight may finish after a stop signal. Default 15000 (above the 10 s subgraph timeout). */
  readonly timeoutMs: number;
  /** `SHUTDOWN_DELAY_MS`: how long new connections are still accepted after `/ready` turned 503. Default 0. */
  readonly delayMs: number;
}

export const SHUTDOWN_DEFAULTS: ShutdownConfig = Object.freeze({ timeoutMs: 15_000, delayMs: 0 });

export function loadShutdownConfig(env: Record<string, string | undefined>): ShutdownConfig {
  return Object.freeze({
    timeoutMs: intVar(env, 'SHUTDOWN_TIMEOUT_MS', SHUTDOWN_DEFAULTS.timeoutMs, { min: 0, max: 600_000 }),
    delayMs: intVar(env, 'SHUTDOWN_DELAY_MS', SHUTDOWN_DEFAULTS.delayMs, { min: 0, max: 600_000 }),
  });
}

/** What stopping may take beyond the drain itself (Apollo, pools, Redis) before the process exits anyway. */
const STOP_MARGIN_MS = 5_000;

/**
 * Stops a running service on the first SIGINT or SIGTERM, then exits:
 * 0 after a clean stop, 1 if stopping failed or outlasted the drain
 * (`shutdown.delayMs + shutdown.timeoutMs`) by more than 5 s.
 */
export function stopOnSignals(
  stop: () => Promise<void>,
  logger: Logger,
  what: string,
  shutdown: ShutdownConfig = SHUTDOWN_DEFAULTS,
): void {
  let stopping = false;
  const shutdownOn = (signal: NodeJS.Signals): void => {
    // A repeated signal (a terminal's Ctrl-C reaches a cluster worker and its primary's SIGTERM follows) must not cut the drain.
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    logger.info({ signal, timeoutMs: shutdown.timeoutMs }, `stopping ${what}`);
    setTimeout(
      () => {
        logger.error({ afterMs: Date.now() - started }, `${what} did not stop in time; exiting`);
        process.exit(1);
      },
      shutdown.delayMs + shutdown.timeoutMs + STOP_MARGIN_MS,
    ).unref();
    stop().then(
      () => {
        logger.info({ ms: Date.now() - started }, `${what} stopped`);
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, `${what} did not stop cleanly`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdownOn);
  process.on('SIGTERM', shutdownOn);
}
