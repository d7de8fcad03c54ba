import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs (pino) tagged with the service name; level from LOG_LEVEL. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: service, level, base: { service } });
}
