/**
 * npm run bench [-- --quick] [-- --workers 1,2 --targets ours,stock --duration 30 --rounds 3 …]
 *
 * Our gateway side by side with stock Apollo Gateway and a bare node:http
 * ceiling on the public gateways benchmark's workload, and our gateway on the
 * commerce workload, uncached and cached, in one run on this machine.
 * Writes `<out>/<date>.md` and `<date>.json` (`<date>-<name>.*` with --name, `-quick` added for --quick)
 * and prints the Markdown. Loopback only; every run is bounded; every
 * process it starts is stopped, on failure and on Ctrl-C too. See USAGE in
 * options.ts; a benchmark, never a timed test.
 *
 * Targets inherit this environment (then get their own variables on top), so
 * `SUBGRAPH_MAX_CONNECTIONS=128 npm run bench` tunes our gateway for a run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { runBenchmark } from './harness';
import { runBenchCommand } from './lib/cli';
import { renderMarkdown } from './lib/report';
import { parseBenchOptions } from './options';

runBenchCommand(async (log) => {
  const argv = process.argv.slice(2);
  const options = parseBenchOptions(argv);
  const report = await runBenchmark(options, ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '), log);
  const markdown = renderMarkdown(report);
  await mkdir(options.outDir, { recursive: true });
  const name = [report.startedAt.slice(0, 10), options.name, options.quick ? 'quick' : undefined]
    .filter(Boolean)
    .join('-');
  const md = join(options.outDir, `${name}.md`);
  const json = join(options.outDir, `${name}.json`);
  await writeFile(md, markdown);
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${markdown}\n`);
  log(`wrote ${relative(process.cwd(), md)} and ${relative(process.cwd(), json)}`);
});
