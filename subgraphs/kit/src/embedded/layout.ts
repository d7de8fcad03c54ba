import fs from 'node:fs/promises';
import path from 'node:path';
import { freePort, isPortFree } from './ports';
import { stopStalePostmaster } from './processes';

/** What <dataDir>/cluster.json records once a cluster's data is complete. */
export interface ClusterState {
  version: 1;
  shards: number;
  replicasPerShard: number;
  database: string;
  ports: number[][];
}

const STATE_FILE = 'cluster.json';

export async function choosePorts(
  shards: number,
  replicas: number,
  basePort: number | undefined,
  previous: number[][] | undefined,
): Promise<number[][]> {
  const width = replicas + 1;
  const result: number[][] = [];
  for (let i = 0; i < shards; i++) {
    const row: number[] = [];
    for (let j = 0; j < width; j++) {
      if (basePort !== undefined) {
        row.push(basePort + i * width + j);
        continue;
      }
      const before = previous?.[i]?.[j];
      row.push(before !== undefined && (await isPortFree(before)) ? before : await freePort());
    }
    result.push(row);
  }
  return result;
}

export async function readState(dataDir: string): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dataDir, STATE_FILE), 'utf8')) as ClusterState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`unreadable ${path.join(dataDir, STATE_FILE)}: ${(error as Error).message}`, { cause: error });
  }
}

export async function writeState(dataDir: string, state: ClusterState): Promise<void> {
  const file = path.join(dataDir, STATE_FILE);
  await fs.writeFile(`${file}.tmp`, JSON.stringify(state, null, 2));
  await fs.rename(`${file}.tmp`, file);
}

export function checkShape(
  state: ClusterState,
  dataDir: string,
  shards: number,
  replicas: number,
  database: string,
): void {
  if (
    state.version === 1 &&
    state.shards === shards &&
    state.replicasPerShard === replicas &&
    state.database === database
  )
    return;
  throw new Error(
    `${dataDir} holds a cluster of ${state.shards} shards x ${state.replicasPerShard} replicas with database "${state.database}", ` +
      `but ${shards} x ${replicas} with "${database}" was asked for: delete it (resetEmbeddedData) or use another dataDir`,
  );
}

/** Finds data dirs (postmaster.pid) down to <root>/shard<i>/<node> and stops what still serves them. */
export async function stopStaleUnder(root: string, onLog: (line: string) => void, depth = 0): Promise<void> {
  const entries = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
  if (entries.some((entry) => entry.name === 'postmaster.pid')) await stopStalePostmaster(root, onLog);
  if (depth >= 2) return;
  for (const entry of entries) {
    if (entry.isDirectory()) await stopStaleUnder(path.join(root, entry.name), onLog, depth + 1);
  }
}
