import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This checkout. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Never copied: history, installed packages, databases, artifacts. */
const SKIP = new Set(['.git', 'node_modules', '.data', 'test/artifacts', 'bench/results']);

/** A throwaway copy of the repository that scripts can change freely. */
export interface WorkspaceCopy {
  readonly root: string;
  /** Runs a command in the copy; resolves with its exit code and output (never rejects on a non-zero exit). */
  run(
    command: string,
    args: string[],
    env?: Record<string, string>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  remove(): Promise<void>;
}

/**
 * Copies the checkout (sources, schema, migrations, lockfile) into a temp
 * folder and gives it its own node_modules made of links: every installed
 * package links to this checkout's, except `@commerce/*`, which link to the
 * copy's workspaces, so code in the copy imports the copy's kit, gateway and
 * migrations. Nothing done in the copy can change this checkout.
 */
export async function copyWorkspace(): Promise<WorkspaceCopy> {
  const root = await mkdtemp(join(tmpdir(), 'commerce-workspace-'));
  try {
    await cp(REPO, root, {
      recursive: true,
      filter: (source) => !SKIP.has(relative(REPO, source).split('\\').join('/')),
    });
    const modules = join(root, 'node_modules');
    await mkdir(join(modules, '@commerce'), { recursive: true });
    for (const entry of await readdir(join(REPO, 'node_modules'))) {
      // Not the hidden lockfile or other npm state files: npm in the copy must never write into this checkout.
      if (entry === '@commerce' || (entry.startsWith('.') && entry !== '.bin')) continue;
      await symlink(join(REPO, 'node_modules', entry), join(modules, entry));
    }
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
    for (const workspace of pkg.workspaces) {
      const { name } = JSON.parse(await readFile(join(root, workspace, 'package.json'), 'utf8')) as { name: string };
      await symlink(join('..', '..', workspace), join(modules, name));
    }
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return {
    root,
    run(command, args, env = {}) {
      return new Promise((resolve, reject) => {
        // A child `node --test` must report to us as text, not to a parent test runner.
        const { NODE_TEST_CONTEXT: _ignored, ...inherited } = process.env;
        const child = spawn(command, args, {
          cwd: root,
          env: { ...inherited, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
