import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Owner } from './binaries';
import { initPrimaryDir, writeServerConf } from './datadir';
import { copyDataDir, withDirLock } from './files';
import { EmbeddedPgNode } from './node';
import { freePort } from './ports';
import { stopStalePostmaster } from './processes';

export type Prepare = (primaryUrls: string[], log: (msg: string) => void) => Promise<void>;

export interface BuildContext {
  shards: number;
  password: string;
  database: string;
  fast: boolean;
  owner: Owner | undefined;
  prepare: Prepare | undefined;
  /** Progress lines. */
  log: (msg: string) => void;
  /** Server log lines. */
  onLog: (line: string) => void;
}

export const primaryDir = (root: string, shard: number): string => path.join(root, `shard${shard}`, 'primary');
export const replicaDir = (root: string, shard: number, replica: number): string =>
  path.join(root, `shard${shard}`, `replica${replica}`);

export const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)}s`;

/**
 * initdb every shard primary under root, create the database, run prepare once with all
 * primaries up, and stop them cleanly so their data dirs can be copied.
 */
export async function buildPrimaries(root: string, primaries: EmbeddedPgNode[], ctx: BuildContext): Promise<void> {
  await Promise.all(
    primaries.map(async (node) => {
      const started = Date.now();
      ctx.log(`initialising shard ${node.shard} primary in ${node.dataDir}`);
      await stopStalePostmaster(node.dataDir, ctx.log);
      await initPrimaryDir(node.dataDir, ctx);
      await writeServerConf(node.dataDir, { fast: ctx.fast, bulkLoad: true }, ctx.owner);
      ctx.log(`shard ${node.shard} primary initialised in ${seconds(started)}`);
    }),
  );
  try {
    await Promise.all(primaries.map((node) => node.start()));
    const quoted = `"${ctx.database.replace(/"/g, '""')}"`;
    await Promise.all(primaries.map((node) => node.query(`create database ${quoted}`)));
    ctx.log(`created database ${ctx.database} on ${primaries.length} primaries under ${root}`);
    if (ctx.prepare) {
      const started = Date.now();
      ctx.log('running prepare');
      await ctx.prepare(
        primaries.map((node) => node.url),
        ctx.onLog,
      );
      ctx.log(`prepare finished in ${seconds(started)}`);
    }
  } finally {
    await Promise.all(primaries.map((node) => node.stop()));
  }
}

interface TemplateMarker {
  key: string;
  shards: number;
  database: string;
  passwordSha256: string;
}

const MARKER = 'template.json';

/**
 * Copies prepared shard primaries from the template dir into root, building the template
 * first when it is missing or was made for another key. Holds a lock across build and copy
 * so concurrent test processes build it once and never copy a half-built one.
 */
export async function primariesFromTemplate(
  template: { dir: string; key: string },
  root: string,
  ctx: BuildContext,
): Promise<void> {
  const dir = path.resolve(template.dir);
  const wanted: TemplateMarker = {
    key: template.key,
    shards: ctx.shards,
    database: ctx.database,
    passwordSha256: createHash('sha256').update(ctx.password).digest('hex'),
  };
  await withDirLock(`${dir}.lock`, 15 * 60_000, async () => {
    const marker = await fs.readFile(path.join(dir, MARKER), 'utf8').then(
      (text) => JSON.parse(text) as TemplateMarker,
      () => undefined,
    );
    if (!marker || JSON.stringify(marker) !== JSON.stringify(wanted)) {
      const started = Date.now();
      ctx.log(`building template ${dir} (key ${template.key})`);
      await fs.rm(path.join(dir, MARKER), { force: true });
      await fs.mkdir(dir, { recursive: true });
      const nodes = await Promise.all(
        Array.from(
          { length: ctx.shards },
          async (_, shard) =>
            new EmbeddedPgNode({
              role: 'primary',
              shard,
              label: `template shard${shard} primary`,
              dataDir: primaryDir(dir, shard),
              port: await freePort(),
              password: ctx.password,
              database: ctx.database,
              owner: ctx.owner,
              onLog: ctx.onLog,
            }),
        ),
      );
      await buildPrimaries(dir, nodes, ctx);
      await fs.writeFile(path.join(dir, MARKER), JSON.stringify(wanted, null, 2));
      ctx.log(`template built in ${seconds(started)}`);
    }
    const started = Date.now();
    await Promise.all(
      Array.from({ length: ctx.shards }, (_, shard) =>
        copyDataDir(primaryDir(dir, shard), primaryDir(root, shard), ctx.owner),
      ),
    );
    ctx.log(`copied ${ctx.shards} primaries from template in ${seconds(started)}`);
  });
}
