import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compare, firstDifference } from '../../bench/lib/check';
import type { BenchmarkReport } from '../../bench/lib/report';
import { BenchOptionError, parseBenchOptions } from '../../bench/options';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `bench/index.ts` as `npm run bench` would, bounded; resolves with its exit code and output. */
function runBench(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/index.ts', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-20_000)));
    // SIGTERM lets the harness stop its own children; the timer is only a bound.
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'unknown', stdout, stderr });
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('benchmark harness (smoke: structure, never numbers)', () => {
  let out: string;
  let run: { code: number | string; stdout: string; stderr: string };
  let report: BenchmarkReport;
  let markdown: string;

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
    run = await runBench(
      [
        '--quick',
        '--warmup',
        '1',
        '--duration',
        '1',
        '--rounds',
        '1',
        '--connections',
        '10',
        '--targets',
        'ours,ours-apollo-executor,stock',
        '--name',
        'smoke',
        '--out',
        out,
      ],
      100_000,
    );
    assert.equal(run.code, 0, `the harness failed:\n${run.stderr}`);
    const files = await readdir(out);
    const json = files.find((f) => f.endsWith('-smoke-quick.json'));
    const md = files.find((f) => f.endsWith('-smoke-quick.md'));
    assert.ok(json && md, `expected <date>-smoke-quick.json and .md in ${out}, got ${files.join(', ')}`);
    report = JSON.parse(await readFile(join(out, json), 'utf8')) as BenchmarkReport;
    markdown = await readFile(join(out, md), 'utf8');
  });
  after(() => rm(out, { recursive: true, force: true }));

  it('measures exactly the targets asked for, once each, in order', () => {
    assert.deepEqual(
      report.workloads.map((w) => w.id),
      ['standard'],
    );
    const rows = report.workloads[0]!.rows;
    assert.deepEqual(
      rows.map((r) => r.key),
      ['ours@1', 'ours-apollo-executor@1', 'stock@1'],
    );
    for (const row of rows) {
      assert.equal(row.rounds.length, 1, row.key);
      assert.equal(typeof row.requestsPerSecond, 'number', row.key);
      assert.equal(typeof row.p99Ms, 'number', row.key);
      assert.ok(row.peakRssMiB.total > 0 && row.processes >= 1, `${row.key}: its memory was sampled`);
      assert.ok(row.cpuMsPerResponse! > 0, `${row.key}: its CPU time per response was measured`);
      assert.deepEqual(row.cpuMsPerResponseRounds, [row.cpuMsPerResponse]);
    }
  });

  it("checks every target's answer deep-equal to stock Apollo Gateway's before measuring it", () => {
    const workload = report.workloads[0]!;
    assert.equal(workload.responseBytes, 87_600, 'the standard answer has the published size');
    for (const row of workload.rows) {
      assert.equal(row.check.deepEqual, true, `${row.key}: ${row.check.difference}`);
      assert.ok(row.subgraphFetchesPerOperation! > 0, `${row.key} counted its subgraph fetches`);
    }
  });

  it('states ratios to stock Apollo Gateway, the worker count, pinning and Node version', () => {
    const [ours, , stock] = report.workloads[0]!.rows;
    assert.equal(typeof ours!.ratio, 'number');
    assert.equal(stock!.ratio, null, 'the baseline has no ratio to itself');
    assert.equal(report.machine.node, process.version);
    assert.match(markdown, /CPU pinning: (taskset|none)/);
    assert.match(markdown, new RegExp(`Node ${process.version.replace(/\./g, '\\.')}`));
    assert.match(markdown, /\| target \| workers \| req\/s \| p50 ms \| p99 ms \| CPU ms\/resp \| errors \| peak RSS/);
    assert.match(markdown, /^\| \*\*ours\*\* our gateway, uncached .*\| 1 \(\d+ procs?\).*✓/m);
    assert.match(markdown, /^\| \*\*stock\*\* stock Apollo Gateway .*✓/m);
    assert.match(markdown, /APOLLO_TELEMETRY_DISABLED=true/);
    assert.ok(run.stdout.includes(markdown.trim()), 'the table is printed too');
  });

  it("compares our gateway with the same gateway on Apollo's executor, overall and round by round", () => {
    const [ours, apollo] = report.workloads[0]!.rows;
    assert.equal(ours!.versus?.target, 'ours-apollo-executor');
    assert.equal(ours!.versus?.ratio, ours!.requestsPerSecond / apollo!.requestsPerSecond);
    assert.equal(ours!.versus?.p99Ratio, ours!.p99Ms / apollo!.p99Ms);
    assert.equal(ours!.versus?.cpuRatio, ours!.cpuMsPerResponse! / apollo!.cpuMsPerResponse!);
    assert.deepEqual(ours!.versus?.perRound, [
      ours!.rounds[0]!.requestsPerSecond / apollo!.rounds[0]!.requestsPerSecond,
    ]);
    assert.equal(apollo!.versus, null, 'the twin itself names no twin');
    assert.match(markdown, /\| vs \|/);
    assert.match(
      markdown,
      /^\| \*\*ours\*\* .*\| \*\*[\d.]+×\*\* ours-apollo-executor req\/s, p99 [\d.]+×, CPU\/resp [\d.]+×; per round [\d.]+× \|/m,
    );
    assert.match(markdown, /GATEWAY_EXECUTOR=apollo/);
  });

  it('stops every process it started', () => {
    assert.ok(report.processes.length >= 3, 'gateways and load generators are listed');
    const left = report.processes.filter((p) => alive(p.pid));
    assert.deepEqual(left, []);
  });
});

describe('benchmark checks and options', () => {
  it('names the first difference between two answers', () => {
    const reference = { data: { users: [{ id: '1', name: 'Uri Goldshtein' }] } };
    assert.equal(
      firstDifference(reference, { data: { users: [{ id: '1', name: 'Uri' }] } }),
      '$.data.users[0].name: "Uri Goldshtein" ≠ "Uri"',
    );
    const text = JSON.stringify(reference);
    const received = (body: string, status = 200) => ({ status, headers: new Headers(), text: body });
    assert.deepEqual(compare(received(text), { text, json: reference }), { deepEqual: true, bytesIdentical: true });
    assert.deepEqual(
      compare(received('{"data":{"users":[{"name":"Uri Goldshtein","id":"1"}]}}'), { text, json: reference }),
      { deepEqual: true, bytesIdentical: false },
    );
    assert.equal(compare(received(text, 500), { text, json: reference }).deepEqual, false);
  });

  it('refuses a bad option with a message naming it and the value', () => {
    assert.throws(
      () => parseBenchOptions(['--connections', '0']),
      (e: unknown) => e instanceof BenchOptionError && /--connections .* got "0"/.test(e.message),
    );
    assert.throws(
      () => parseBenchOptions(['--targets', 'ours,nope']),
      (e: unknown) => e instanceof BenchOptionError && /--targets .*"ours,nope"/.test(e.message),
    );
    assert.throws(
      () => parseBenchOptions(['--workers', '1,x']),
      (e: unknown) => e instanceof BenchOptionError && /--workers/.test(e.message),
    );
  });

  it('--quick shortens everything and keeps defaults otherwise', () => {
    const quick = parseBenchOptions(['--quick']);
    assert.equal(quick.rounds, 1);
    assert.ok(quick.durationSeconds < parseBenchOptions([]).durationSeconds);
    assert.equal(quick.connections, 50);
    assert.deepEqual(parseBenchOptions(['--workers', '2,1']).workers, [1, 2]);
    assert.equal(parseBenchOptions(['--name', 'executor-1w']).name, 'executor-1w');
    assert.throws(
      () => parseBenchOptions(['--name', '../x']),
      (e: unknown) => e instanceof BenchOptionError && /--name .*"\.\.\/x"/.test(e.message),
    );
  });
});
