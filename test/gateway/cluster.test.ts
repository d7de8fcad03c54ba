import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { startGatewayProcess } from '../helpers/gateway-process';
import { compose, metric, startSubgraph, tempDir, waitFor } from './helpers';

const SDL = 'type Query { pid: Int }';

function postOnNewConnection(url: string, query: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(JSON.parse(body)));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ query }));
  });
}

/** PIDs of the live processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

test('GATEWAY_WORKERS=2 runs two workers on one port, aggregates their metrics, and stops them all', async (t) => {
  const subgraph = await startSubgraph('pids', SDL, { Query: { pid: () => 1 } });
  t.after(() => subgraph.stop());
  const dir = await tempDir();
  t.after(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await writeFile(path, compose([{ name: 'pids', url: subgraph.url, typeDefs: SDL }]));

  const gateway = await startGatewayProcess(
    { subgraphs: { pids: subgraph } },
    { SUPERGRAPH_PATH: path, GATEWAY_WORKERS: '2' },
  );
  t.after(() => gateway.stop());
  // tsx runs the gateway in a child of its own; the cluster primary is that child.
  const primary = await waitFor(
    'the cluster primary',
    () => childrenOf(gateway.pid).find((pid) => childrenOf(pid).length === 2),
    30_000,
  );
  const workers = childrenOf(primary);
  assert.equal(workers.length, 2);
  await waitFor('both workers to listen', async () => (await fetch(new URL('/ready', gateway.url))).ok, 30_000);

  // A new connection per request, so the primary spreads them over both workers.
  const requests = 20;
  for (let i = 0; i < requests; i++)
    assert.deepEqual(await postOnNewConnection(gateway.url, '{ pid }'), { data: { pid: 1 } });
  // Whichever worker answers /metrics, it reports the operations of both.
  await waitFor(
    'metrics aggregated over both workers',
    async () => (await metric(gateway.url, 'gateway_operations_total', { type: 'query' })) === requests,
    10_000,
  );

  await gateway.stop();
  for (const pid of [primary, ...workers]) {
    await waitFor(
      `process ${pid} to exit`,
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      15_000,
    );
  }
});
