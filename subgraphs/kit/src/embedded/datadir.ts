import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pgBinaries, type Owner } from './binaries';
import { confQuote, makeOwnedDir, setConfValues, writeOwned } from './files';

const SERVER_CONF = 'embedded.conf';

const HBA = `# Written by the embedded cluster manager: password auth on loopback, replication included.
local   all          all                   scram-sha-256
host    all          all      127.0.0.1/32 scram-sha-256
host    replication  all      127.0.0.1/32 scram-sha-256
`;

/** initdb as the postgres user, then our hba and an include of the settings file we rewrite at every start. */
export async function initPrimaryDir(
  dir: string,
  options: { password: string; owner: Owner | undefined; fast: boolean },
): Promise<void> {
  const { initdb } = await pgBinaries();
  await fs.rm(dir, { recursive: true, force: true });
  await makeOwnedDir(dir, options.owner);
  // Beside the data dir, so that a run killed during initdb leaves it only inside the cluster's own folder.
  const pwfile = path.join(path.dirname(dir), `.${path.basename(dir)}-pwfile`);
  await writeOwned(pwfile, `${options.password}\n`, options.owner);
  try {
    const args = [
      '-D',
      dir,
      '-U',
      'postgres',
      `--pwfile=${pwfile}`,
      '-A',
      'scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-instructions',
    ];
    if (options.fast) args.push('--no-sync');
    await run(initdb, args, options.owner, path.dirname(dir));
  } finally {
    await fs.rm(pwfile, { force: true });
  }
  await writeOwned(path.join(dir, 'pg_hba.conf'), HBA, options.owner);
  await fs.appendFile(path.join(dir, 'postgresql.conf'), `\ninclude_if_exists = '${SERVER_CONF}'\n`);
}

export interface ServerConfOptions {
  fast: boolean;
  /** While migrations and seed run on a fresh primary: nothing to lose yet, so no commit waits. */
  bulkLoad?: boolean;
}

/**
 * Settings of every server, rewritten at each start so that `fast` follows the current
 * options. postgresql.auto.conf is read after it, so setSetting overrides these.
 */
export async function writeServerConf(
  dir: string,
  options: ServerConfOptions,
  owner: Owner | undefined,
): Promise<void> {
  const settings: Record<string, string> = {
    max_connections: '100',
    shared_buffers: options.fast ? '32MB' : '64MB',
    wal_level: 'replica',
    max_wal_senders: '10',
    max_replication_slots: '10',
    wal_keep_size: '64MB',
    // Slots keep WAL for a stopped replica, but not without bound.
    max_slot_wal_keep_size: '1GB',
    min_wal_size: '32MB',
    hot_standby: 'on',
    hot_standby_feedback: 'on',
    wal_receiver_status_interval: '1s',
    log_checkpoints: 'off',
  };
  if (options.fast) Object.assign(settings, { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
  if (options.bulkLoad) settings.synchronous_commit = 'off';
  const text = Object.entries(settings)
    .map(([name, value]) => `${name} = ${confQuote(value)}`)
    .join('\n');
  await writeOwned(
    path.join(dir, SERVER_CONF),
    `# Rewritten by the embedded cluster manager at every start.\n${text}\n`,
    owner,
  );
}

/** Turns a data dir copied from a primary into a standby of the primary at primaryPort. */
export async function configureStandby(
  dir: string,
  options: { primaryPort: number; password: string; slot: string; owner: Owner | undefined },
): Promise<void> {
  const conninfo = [
    'host=127.0.0.1',
    `port=${options.primaryPort}`,
    'user=postgres',
    `password=${conninfoQuote(options.password)}`,
    `application_name=${options.slot}`,
  ].join(' ');
  await setConfValues(
    path.join(dir, 'postgresql.auto.conf'),
    { primary_conninfo: conninfo, primary_slot_name: options.slot },
    options.owner,
  );
  await writeOwned(path.join(dir, 'standby.signal'), '', options.owner);
}

function conninfoQuote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function run(command: string, args: string[], owner: Owner | undefined, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      uid: owner?.uid,
      gid: owner?.gid,
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${path.basename(command)} failed (code ${code ?? 'none'}, signal ${signal ?? 'none'}):\n${output.slice(-4000)}`,
          ),
        );
    });
  });
}
