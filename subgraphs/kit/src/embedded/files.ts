import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import type { Owner } from './binaries';
import { isAlive, sleep } from './processes';

const execFileAsync = promisify(execFile);

export async function chownTree(target: string, owner: Owner | undefined): Promise<void> {
  if (!owner) return;
  await fs.lchown(target, owner.uid, owner.gid);
  const stat = await fs.lstat(target);
  if (!stat.isDirectory()) return;
  for (const entry of await fs.readdir(target)) await chownTree(path.join(target, entry), owner);
}

export async function writeOwned(file: string, text: string, owner: Owner | undefined, mode = 0o600): Promise<void> {
  await fs.writeFile(file, text, { mode });
  if (owner) await fs.chown(file, owner.uid, owner.gid);
}

/** Creates dir (and parents) and gives the leaf to owner with the 0700 Postgres insists on. */
export async function makeOwnedDir(dir: string, owner: Owner | undefined): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.chmod(dir, 0o700);
  if (owner) await fs.chown(dir, owner.uid, owner.gid);
}

// Files that belong to one running server, not to the data it serves.
const notCopied = ['postmaster.pid', 'postmaster.opts', 'standby.signal', 'recovery.signal'];

/**
 * Cold copy of a stopped server's data dir, owned by owner. `cp -a` keeps modes and owners and
 * is about twice as fast as fs.cp on the thousand small files of a data dir.
 */
export async function copyDataDir(from: string, to: string, owner: Owner | undefined): Promise<void> {
  await fs.rm(to, { recursive: true, force: true });
  await fs.mkdir(path.dirname(to), { recursive: true });
  await execFileAsync('cp', ['-a', from, to]);
  await Promise.all(notCopied.map((name) => fs.rm(path.join(to, name), { force: true })));
  // Replication slots are per server; a copied one would pin WAL on the copy forever.
  const slots = path.join(to, 'pg_replslot');
  for (const slot of await fs.readdir(slots).catch(() => []))
    await fs.rm(path.join(slots, slot), { recursive: true, force: true });
  await fs.chmod(to, 0o700);
  const stat = await fs.stat(to);
  if (owner && (stat.uid !== owner.uid || stat.gid !== owner.gid)) await chownTree(to, owner);
}

/** A value quoted for postgresql.conf. */
export function confQuote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** Sets (or replaces) name = 'value' lines in a postgresql.auto.conf-style file. */
export async function setConfValues(
  file: string,
  values: Record<string, string>,
  owner: Owner | undefined,
): Promise<void> {
  let lines: string[] = [];
  try {
    lines = (await fs.readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const [name, value] of Object.entries(values)) {
    const lower = name.toLowerCase();
    lines = lines.filter((line) => /^\s*([A-Za-z_][\w.]*)/.exec(line)?.[1]?.toLowerCase() !== lower);
    lines.push(`${name} = ${confQuote(value)}`);
  }
  await writeOwned(file, `${lines.join('\n')}\n`, owner);
}

/**
 * Runs fn while holding a lock directory, which also works across processes. A lock
 * whose holder died is taken over.
 */
export async function withDirLock<T>(lockDir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  await fs.mkdir(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      await fs.mkdir(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(await fs.readFile(path.join(lockDir, 'pid'), 'utf8').catch(() => ''));
    if (holder > 0 && !isAlive(holder)) {
      await fs.rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for lock ${lockDir} (held by pid ${holder || 'unknown'})`);
    await sleep(200);
  }
  try {
    await fs.writeFile(path.join(lockDir, 'pid'), String(process.pid));
    return await fn();
  } finally {
    await fs.rm(lockDir, { recursive: true, force: true });
  }
}

/** Postgres runs as owner and must be able to walk down to its data dir; say so plainly instead of a bare EACCES later. */
export async function assertReachable(dir: string, owner: Owner | undefined): Promise<void> {
  if (!owner) return;
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const stat = await fs.stat(current).catch(() => undefined);
    if (stat) {
      const bit = stat.uid === owner.uid ? 0o100 : stat.gid === owner.gid ? 0o010 : 0o001;
      if (!(stat.mode & bit)) {
        throw new Error(
          `the postgres user (uid ${owner.uid}) cannot enter ${current} (mode ${(stat.mode & 0o777).toString(8)}), on the way to ${dir}: make it world-searchable (chmod o+x) or pick another folder`,
        );
      }
    }
    if (current === path.dirname(current)) return;
  }
}
