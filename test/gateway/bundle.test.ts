import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GATEWAY_BUNDLE, buildGateway } from '../../scripts/build-gateway';
import { startStandardSubgraphs, type StandardSubgraphs } from '../../bench/workload/standard/server';
import { STANDARD_QUERY } from '../../bench/workload/standard/subgraphs';
import { composeStandardSupergraph } from '../../bench/workload/standard/supergraph';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm run gateway` runs dist/gateway.mjs on plain node (no tsx): it must build, start and answer like the sources. */
describe('the gateway bundle (npm run build:gateway, run by npm run gateway and the image)', () => {
  let subgraphs: StandardSubgraphs;
  let dir: string;
  let child: ReturnType<typeof spawn> | undefined;
  let url: string;

  before(async () => {
    await buildGateway();
    subgraphs = await startStandardSubgraphs();
    dir = await mkdtemp(join(tmpdir(), 'gateway-bundle-'));
    await writeFile(join(dir, 'supergraph.graphql'), composeStandardSupergraph(subgraphs.urls));
    const port = await freePort();
    url = `http://127.0.0.1:${port}/graphql`;
    child = spawn(process.execPath, ['--max-old-space-size=256', GATEWAY_BUNDLE], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        PORT: String(port),
        HOST: '127.0.0.1',
        SUPERGRAPH_PATH: join(dir, 'supergraph.graphql'),
        RESPONSE_CACHE: 'false',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor(
      'the bundled gateway to be ready',
      () =>
        fetch(url.replace('/graphql', '/ready')).then(
          (r) => r.ok,
          () => false,
        ),
      30_000,
    );
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await subgraphs?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs on node without tsx and answers the standard query with all its data, through the compiled executor', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: STANDARD_QUERY }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { data?: { users: unknown[]; topProducts: unknown[] }; errors?: unknown };
    assert.equal(body.errors, undefined);
    assert.equal(body.data?.users.length, 6);
    assert.equal(body.data?.topProducts.length, 5);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child!.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
