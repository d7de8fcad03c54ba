import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { pgBinaries, type Owner } from './binaries';
import { setConfValues, writeOwned } from './files';
import { sleep, stopStalePostmaster, trackChild } from './processes';

export interface PgNode {
  readonly role: 'primary' | 'replica';
  readonly shard: number;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  pid(): number | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Write a setting into postgresql.auto.conf (chowned) and reload the server if it runs. */
  setSetting(name: string, value: string): Promise<void>;
}

export interface NodeSpec {
  role: 'primary' | 'replica';
  shard: number;
  /** For logs: "shard0 primary", "shard1 replica0". */
  label: string;
  dataDir: string;
  port: number;
  password: string;
  database: string;
  owner: Owner | undefined;
  onLog: (line: string) => void;
}

/** Thrown when a server exits or never accepts connections while starting. */
export class PgStartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

const READY_TIMEOUT_MS = 60_000;
const TAIL_LINES = 40;

export class EmbeddedPgNode implements PgNode {
  readonly role: 'primary' | 'replica';
  readonly shard: number;
  readonly label: string;
  readonly dataDir: string;
  port: number;
  readonly database: string;
  private readonly spec: NodeSpec;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private readonly tail: string[] = [];

  constructor(spec: NodeSpec) {
    this.spec = spec;
    this.role = spec.role;
    this.shard = spec.shard;
    this.label = spec.label;
    this.dataDir = path.resolve(spec.dataDir);
    this.port = spec.port;
    this.database = spec.database;
  }

  get url(): string {
    return this.urlFor(this.database);
  }

  urlFor(database: string): string {
    return `postgres://postgres:${encodeURIComponent(this.spec.password)}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  pid(): number | undefined {
    const child = this.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  logTail(): string {
    return this.tail.join('\n');
  }

  start(): Promise<void> {
    if (this.pid() !== undefined) return this.starting ?? Promise.resolve();
    this.starting = this.spawnAndWait().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited || this.pid() === undefined) return;
    // SIGINT = fast shutdown; escalate if it hangs.
    for (const [signal, waitMs] of [
      ['SIGINT', 20_000],
      ['SIGQUIT', 5_000],
      ['SIGKILL', 5_000],
    ] as const) {
      child.kill(signal);
      if (await settlesWithin(exited, waitMs)) break;
      this.spec.onLog(`[${this.label}] did not stop after ${signal}`);
    }
    this.child = undefined;
  }

  async setSetting(name: string, value: string): Promise<void> {
    if (!/^[A-Za-z_][\w.]*$/.test(name)) throw new Error(`invalid setting name: ${name}`);
    const file = path.join(this.dataDir, 'postgresql.auto.conf');
    const previous = await fs.readFile(file, 'utf8').catch(() => '');
    await setConfValues(file, { [name]: value }, this.spec.owner);
    const pid = this.pid();
    if (pid === undefined) return;
    const loadedAt = async (): Promise<string> =>
      (await this.query<{ t: string }>('select pg_conf_load_time()::text as t'))[0]!.t;
    const before = await loadedAt();
    process.kill(pid, 'SIGHUP');
    const deadline = Date.now() + 10_000;
    while ((await loadedAt()) === before) {
      if (Date.now() > deadline) throw new Error(`[${this.label}] configuration reload not seen within 10 s`);
      await sleep(50);
    }
    const rejected = await this.query<{ error: string }>(
      `select error from pg_file_settings where lower(name) = lower($1) and sourcefile like '%postgresql.auto.conf' and error is not null`,
      [name],
    );
    if (rejected[0]) {
      await writeOwned(file, previous, this.spec.owner);
      process.kill(pid, 'SIGHUP');
      throw new Error(`[${this.label}] ${name} = '${value}' was not applied: ${rejected[0].error}`);
    }
  }

  /** One query on a short-lived connection to the node's "postgres" database. */
  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.urlFor(database), connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async spawnAndWait(): Promise<void> {
    await stopStalePostmaster(this.dataDir, (msg) => this.spec.onLog(`[${this.label}] ${msg}`));
    const { postgres } = await pgBinaries();
    this.tail.length = 0;
    const child = spawn(
      postgres,
      ['-D', this.dataDir, '-p', String(this.port), '-c', 'listen_addresses=127.0.0.1', '-k', ''],
      {
        uid: this.spec.owner?.uid,
        gid: this.spec.owner?.gid,
        // Own process group: a terminal's Ctrl-C reaches us, and we decide when servers stop.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
      },
    );
    let exitReason: string | undefined;
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        exitReason ??= error.message;
        resolve();
      });
      child.once('exit', (code, signal) => {
        exitReason ??= `exit code ${code ?? 'none'}, signal ${signal ?? 'none'}`;
        resolve();
      });
    });
    this.child = child;
    if (child.pid !== undefined) trackChild(child);
    // A live cluster must not keep the process alive on its own; the exit hook ends it.
    child.unref();
    for (const stream of [child.stdout, child.stderr]) this.pipeLines(stream);

    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exitReason !== undefined) {
        this.child = undefined;
        const tail = this.logTail();
        throw new PgStartError(
          `[${this.label}] postgres exited while starting on port ${this.port} (${exitReason}). Log tail:\n${tail}`,
          /could not bind|address already in use/i.test(tail),
        );
      }
      if (await this.acceptsConnections()) return;
      if (Date.now() > deadline) {
        child.kill('SIGQUIT');
        await this.exited;
        this.child = undefined;
        throw new PgStartError(
          `[${this.label}] postgres on port ${this.port} not ready after ${READY_TIMEOUT_MS / 1000} s. Log tail:\n${this.logTail()}`,
          false,
        );
      }
      await sleep(100);
    }
  }

  private async acceptsConnections(): Promise<boolean> {
    try {
      await this.query('select 1');
      return true;
    } catch {
      return false;
    }
  }

  private pipeLines(stream: Readable | null): void {
    if (!stream) return;
    (stream as Readable & { unref?: () => void }).unref?.();
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.onServerLine(line);
    });
    stream.on('end', () => {
      if (partial) this.onServerLine(partial);
      partial = '';
    });
  }

  private onServerLine(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
    this.spec.onLog(`[${this.label}] ${line}`);
  }
}

/** A plain sleep in a race would keep the event loop alive after the winner settled. */
function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
