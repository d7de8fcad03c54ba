import { stopEverything, type Log } from '../harness';
import { BenchOptionError } from '../options';

/**
 * Runs a benchmark command: `main` gets a logger (stderr, seconds since start); SIGINT or SIGTERM stops every
 * process the benchmark started and exits 130; a BenchOptionError prints its message (the usage) and exits 2;
 * any other failure stops everything and exits 1.
 */
export function runBenchCommand(main: (log: Log) => Promise<void>): void {
  const started = Date.now();
  const log: Log = (line) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping everything the benchmark started`);
    void stopEverything().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  main(log).catch((error: unknown) => {
    if (error instanceof BenchOptionError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error);
    // Exit runs the children's safety net (SIGKILL by PID) after the orderly stop.
    void stopEverything().finally(() => process.exit(1));
  });
}
