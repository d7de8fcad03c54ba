/** Options of {@link startLoad}. */
export interface LoadOptions<T> {
  /** Concurrent request loops. */
  workers: number;
  /** The load stops by itself after this many requests in all. */
  maxRequests: number;
  /** …or after this long, whichever comes first. */
  maxMs: number;
  /** Pause of each worker between two requests. Default 0. */
  pauseMs?: number;
  /** One request of worker `worker`; its result is kept in `results`. Must not throw. */
  request(worker: number): Promise<T>;
}

export interface Load<T> {
  /** Results so far, in completion order. */
  readonly results: T[];
  /** Stops the loops after their current request; resolves with every result. */
  stop(): Promise<T[]>;
}

/** A bounded request load (count and time) run by a few concurrent loops. */
export function startLoad<T>(options: LoadOptions<T>): Load<T> {
  const results: T[] = [];
  const deadline = Date.now() + options.maxMs;
  let sent = 0;
  let stopped = false;
  const loop = async (worker: number): Promise<void> => {
    while (!stopped && sent < options.maxRequests && Date.now() < deadline) {
      sent++;
      results.push(await options.request(worker));
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: options.workers }, (_, worker) => loop(worker)));
  return {
    results,
    async stop() {
      stopped = true;
      await done;
      return results;
    },
  };
}

/** Records every 'uncaughtException' and 'unhandledRejection' of this process until `stop()`. */
export function watchProcessErrors(): { errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const record = (error: unknown) => errors.push(error);
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  return {
    errors,
    stop() {
      process.removeListener('uncaughtException', record);
      process.removeListener('unhandledRejection', record);
    },
  };
}
