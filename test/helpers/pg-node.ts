import type { PgNode } from '@commerce/kit/embedded';
import { waitFor } from './wait';

/** kill -9 of the node's postmaster, by PID; resolves once the process is gone. Returns the PID killed. */
export async function crashNode(node: PgNode): Promise<number> {
  const pid = node.pid();
  if (pid === undefined) throw new Error('the node is not running');
  process.kill(pid, 'SIGKILL');
  await waitFor(`postgres pid ${pid} to exit after SIGKILL`, () => node.pid() === undefined, 10_000);
  return pid;
}

/**
 * Starts a node again after a crash. Its orphaned backends can hold the old
 * shared memory for a moment after a kill -9, and the new postmaster then
 * refuses to start: try again until they are gone (bounded).
 */
export async function restartNode(node: PgNode, timeoutMs = 30_000): Promise<void> {
  let lastError: unknown;
  await waitFor(
    'postgres to start again',
    async () => {
      try {
        await node.start();
        return true;
      } catch (error) {
        lastError = error;
        return false;
      }
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${(lastError as Error | undefined)?.message ?? 'no start error'}`);
  });
}

/**
 * Test clusters run with fsync and synchronous_commit off (`fast`), so a
 * killed server may lose commits it acknowledged. Turns durability back on
 * for one node (postgresql.auto.conf + reload), so a crash test measures
 * the platform and not a disabled fsync.
 */
export async function makeDurable(node: PgNode): Promise<void> {
  for (const [name, value] of [
    ['fsync', 'on'],
    ['synchronous_commit', 'on'],
    ['full_page_writes', 'on'],
  ] as const)
    await node.setSetting(name, value);
}
