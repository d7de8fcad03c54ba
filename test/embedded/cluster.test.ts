import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startEmbeddedCluster, type EmbeddedCluster } from '../../subgraphs/kit/src/embedded/index';
import { pgBinaries, postgresOwner } from '../../subgraphs/kit/src/embedded/binaries';
import { freePort } from '../../subgraphs/kit/src/embedded/ports';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ROWS_PER_SHARD = 50;

let root = '';
before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'embedded-pg-test-'));
  // mkdtemp makes it 0700; the servers run as the postgres user and must get through it.
  await fs.chmod(root, 0o755);
});
after(async () => {
  if (root) await fs.rm(root, { recursive: true, force: true });
});

async function query<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const hasItem = async (url: string, id: number): Promise<boolean> =>
  (await query(url, 'select 1 from items where id = $1', [id])).length === 1;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

function serverPids(cluster: EmbeddedCluster): number[] {
  return cluster.shards.flatMap((shard) =>
    [shard.primary, ...shard.replicas].map((node) => node.pid()).filter((pid) => pid !== undefined),
  );
}

function countingPrepare(calls: { count: number }) {
  return async (primaryUrls: string[], log: (msg: string) => void): Promise<void> => {
    calls.count++;
    for (const [shard, url] of primaryUrls.entries()) {
      await query(url, 'create table items (id int primary key, shard int not null, label text not null)');
      await query(url, `insert into items select g, $1, 'seed ' || g from generate_series(1, ${ROWS_PER_SHARD}) g`, [
        shard,
      ]);
    }
    log(`seeded ${primaryUrls.length} shards`);
  };
}

describe('embedded cluster on a fresh data dir', () => {
  const calls = { count: 0 };
  let dataDir = '';
  let cluster: EmbeddedCluster | undefined;
  const extraPids: number[] = [];

  before(async () => {
    dataDir = path.join(root, 'fresh');
    cluster = await startEmbeddedCluster({
      dataDir,
      shards: 2,
      replicasPerShard: 1,
      fast: true,
      prepare: countingPrepare(calls),
    });
  });
  after(async () => {
    await cluster?.stop();
    for (const pid of extraPids) if (isRunning(pid)) process.kill(pid, 'SIGQUIT');
  });

  test('lays out 2 shards with a primary and a streaming replica each', async () => {
    assert.ok(cluster);
    assert.equal(calls.count, 1);
    assert.deepEqual(
      cluster.shards.map((shard) => shard.index),
      [0, 1],
    );
    for (const shard of cluster.shards) {
      assert.equal(shard.primary.dataDir, path.join(dataDir, `shard${shard.index}`, 'primary'));
      assert.equal(shard.replicas[0]?.dataDir, path.join(dataDir, `shard${shard.index}`, 'replica0'));
      const streaming = await query<{ n: number }>(
        shard.primary.url,
        `select count(*)::int as n from pg_stat_replication where state = 'streaming'`,
      );
      assert.equal(streaming[0]?.n, 1);
    }
    assert.deepEqual(
      cluster.urls(),
      cluster.shards.map((shard) => ({
        primary: shard.primary.url,
        replicas: shard.replicas.map((replica) => replica.url),
      })),
    );
  });

  test('prepared rows are readable on every replica, which is in recovery', async () => {
    for (const shard of cluster!.shards) {
      const replica = shard.replicas[0]!;
      const rows = await query<{ n: number; recovering: boolean }>(
        replica.url,
        'select count(*)::int as n, pg_is_in_recovery() as recovering from items where shard = $1',
        [shard.index],
      );
      assert.deepEqual(rows[0], { n: ROWS_PER_SHARD, recovering: true });
      assert.equal((await query<{ r: boolean }>(shard.primary.url, 'select pg_is_in_recovery() as r'))[0]?.r, false);
    }
  });

  test('a write on a primary appears on its replica', async () => {
    for (const shard of cluster!.shards) {
      const id = 1000 + shard.index;
      await query(shard.primary.url, `insert into items values ($1, $2, 'written')`, [id, shard.index]);
      await waitFor(`row ${id} on shard ${shard.index}'s replica`, () => hasItem(shard.replicas[0]!.url, id));
    }
  });

  test('recovery_min_apply_delay set on a replica holds a write back there for a while', async () => {
    const shard = cluster!.shards[0]!;
    const replica = shard.replicas[0]!;
    await replica.setSetting('recovery_min_apply_delay', '3s');
    try {
      const written = Date.now();
      await query(shard.primary.url, `insert into items values (2000, 0, 'delayed')`);
      assert.ok(await hasItem(shard.primary.url, 2000));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal(await hasItem(replica.url, 2000), false, 'row visible on the delayed replica too early');
      await waitFor('the delayed row on the replica', () => hasItem(replica.url, 2000));
      assert.ok(Date.now() - written >= 2_500, `visible after ${Date.now() - written} ms`);
    } finally {
      await replica.setSetting('recovery_min_apply_delay', '0');
    }
    await assert.rejects(replica.setSetting('recovery_min_apply_delay', 'soon'), /not applied/);
    const kept = await query<{ recovery_min_apply_delay: string }>(replica.url, 'show recovery_min_apply_delay');
    assert.equal(kept[0]?.recovery_min_apply_delay, '0');
  });

  test('a replica can be stopped and started again, and catches up', async () => {
    const shard = cluster!.shards[1]!;
    const replica = shard.replicas[0]!;
    const before = replica.pid();
    assert.ok(before);
    await replica.stop();
    assert.equal(replica.pid(), undefined);
    assert.equal(isRunning(before), false);
    await query(shard.primary.url, `insert into items values (3000, 1, 'while the replica was down')`);
    await replica.start();
    assert.ok(replica.pid());
    await waitFor('the replica to catch up', () => hasItem(replica.url, 3000));
    assert.equal((await query<{ r: boolean }>(replica.url, 'select pg_is_in_recovery() as r'))[0]?.r, true);
  });

  test('stop() ends every server; a restart keeps the data and does not prepare again', async () => {
    const pids = serverPids(cluster!);
    assert.equal(pids.length, 4);
    await cluster!.stop();
    await cluster!.stop();
    assert.deepEqual(pids.filter(isRunning), []);

    cluster = await startEmbeddedCluster({
      dataDir,
      shards: 2,
      replicasPerShard: 1,
      fast: true,
      prepare: countingPrepare(calls),
    });
    assert.equal(calls.count, 1);
    assert.ok(await hasItem(cluster.shards[0]!.replicas[0]!.url, 1000));
    assert.ok(await hasItem(cluster.shards[1]!.replicas[0]!.url, 3000));
    const rows = await query<{ n: number }>(
      cluster.shards[1]!.replicas[0]!.url,
      'select count(*)::int as n from items',
    );
    assert.equal(rows[0]?.n, ROWS_PER_SHARD + 2);
  });

  test('a restart first stops a server left running on the data by a killed run', async () => {
    await cluster!.stop();
    const { postgres } = await pgBinaries();
    const owner = postgresOwner();
    const primaryDir = path.join(dataDir, 'shard0', 'primary');
    const port = await freePort();
    const orphan = spawn(
      postgres,
      ['-D', primaryDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', ''],
      {
        uid: owner?.uid,
        gid: owner?.gid,
        detached: true,
        stdio: 'ignore',
      },
    );
    orphan.unref();
    assert.ok(orphan.pid);
    extraPids.push(orphan.pid);
    await waitFor(
      'the orphan server',
      async () =>
        await query(`postgres://postgres:postgres@127.0.0.1:${port}/commerce`, 'select 1').then(
          () => true,
          () => false,
        ),
    );

    cluster = await startEmbeddedCluster({ dataDir, shards: 2, replicasPerShard: 1, fast: true });
    assert.equal(isRunning(orphan.pid), false);
    assert.ok(await hasItem(cluster.shards[0]!.primary.url, 2000));
  });

  test('a data dir of another shape is refused', async () => {
    await assert.rejects(
      startEmbeddedCluster({ dataDir, shards: 3, replicasPerShard: 1, fast: true }),
      /holds a cluster of 2 shards x 1 replicas/,
    );
  });
});

describe('embedded cluster from a template', () => {
  const calls = { count: 0 };
  const clusters: EmbeddedCluster[] = [];
  const key = 'items-v1';
  let templateDir = '';

  before(() => {
    templateDir = path.join(root, 'template');
  });
  after(async () => {
    await Promise.all(clusters.map((cluster) => cluster.stop()));
  });

  test('builds the template once and copies it for the next cluster', async () => {
    for (const name of ['a', 'b']) {
      const cluster = await startEmbeddedCluster({
        dataDir: path.join(root, name),
        template: { dir: templateDir, key },
        fast: true,
        prepare: countingPrepare(calls),
      });
      clusters.push(cluster);
      for (const shard of cluster.shards) {
        const rows = await query<{ n: number }>(
          shard.replicas[0]!.url,
          'select count(*)::int as n from items where shard = $1',
          [shard.index],
        );
        assert.equal(rows[0]?.n, ROWS_PER_SHARD);
      }
    }
    assert.equal(calls.count, 1);
    const [a, b] = clusters;
    await query(a!.shards[0]!.primary.url, `insert into items values (4000, 0, 'only in a')`);
    assert.equal(await hasItem(b!.shards[0]!.primary.url, 4000), false);
  });

  test('a process that ends without stop() leaves no server behind', async () => {
    const fixture = path.join(repoRoot, 'test/embedded/fixtures/start-and-exit.ts');
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', fixture, path.join(root, 'exiting'), templateDir, key],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(result.status, 0, result.stderr);
    const pids = JSON.parse(result.stdout.trim().split('\n').pop()!) as number[];
    assert.equal(pids.length, 4);
    await waitFor('the servers of the ended process to go', async () => pids.every((pid) => !isRunning(pid)), 5_000);
    assert.equal(calls.count, 1);
  });
});
