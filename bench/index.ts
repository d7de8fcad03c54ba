/**
 * npm run bench [-- --quick] [-- --workers 1,2 --targets ours,stock --duration 30 --rounds 3 …]
 *
 * Our gateway side by side with stock Apollo Gateway and a bare node:http
 * ceiling on the public gateways benchmark's workload, and our gateway on the
 * commerce workload, uncached and cached, in one run on this machine.
 * Writes `<out>/<date>.md` and `<date>.json` (`<date>-quick.*` for --quick)
 * and prints the Markdown. Loopback only; every run is bounded; every
 * process it starts is stopped, on failure and on Ctrl-C too. See USAGE in
 * options.ts; a benchmark, never a timed test.
 *
 * Targets inherit this environment (then get their own variables on top), so
 * `SUBGRAPH_MAX_CONNECTIONS=128 npm run bench` tunes our gateway for a run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { runBenchmark, stopEverything } from './harness';
import { renderMarkdown } from './lib/report';
import { BenchOptionError, parseBenchOptions } from './options';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseBenchOptions(argv);
  const started = Date.now();
  const log = (line: string) =>
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

  const report = await runBenchmark(options, ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '), log);
  const markdown = renderMarkdown(report);
  await mkdir(options.outDir, { recursive: true });
  const name = `${report.startedAt.slice(0, 10)}${options.quick ? '-quick' : ''}`;
  const md = join(options.outDir, `${name}.md`);
  const json = join(options.outDir, `${name}.json`);
  await writeFile(md, markdown);
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${markdown}\n`);
  log(`wrote ${relative(process.cwd(), md)} and ${relative(process.cwd(), json)}`);
}

main().catch((error: unknown) => {
  if (error instanceof BenchOptionError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error);
  // Exit runs the children's safety net (SIGKILL by PID) after the orderly stop.
  void stopEverything().finally(() => process.exit(1));
});
