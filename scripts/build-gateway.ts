/**
 * `npm run build:gateway` (run by `npm run gateway` before it starts): bundles
 * the gateway and the workspace code it imports (`@commerce/common`) into one
 * ES module, `dist/gateway.mjs`, that plain `node` runs. Packages stay
 * external (loaded from node_modules as they are). Running the bundle instead
 * of the TypeScript sources through tsx spares a production gateway the
 * loader thread and the in-memory transforms (about 45 MiB of RSS) and
 * transpiling at start; `npm start`, the tests and development keep running
 * the sources with tsx.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where the bundle is written, relative to the repository root. */
export const GATEWAY_BUNDLE = 'dist/gateway.mjs';

/**
 * Builds `dist/gateway.mjs` (and its source map) from `gateway/src/index.ts`; resolves when both are in
 * place. Each file is written beside its place and renamed over it, so a gateway starting while another
 * build runs (npm start, the benchmark and a test at once) never reads half a bundle.
 */
export async function buildGateway(): Promise<void> {
  const { outputFiles } = await build({
    absWorkingDir: ROOT,
    entryPoints: ['gateway/src/index.ts'],
    outfile: GATEWAY_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // node_modules are resolved at run time; only the workspace sources are bundled.
    packages: 'external',
    alias: { '@commerce/common': './common/src/index.ts' },
    sourcemap: 'linked',
    logLevel: 'warning',
    write: false,
  });
  await mkdir(dirname(outputFiles[0]!.path), { recursive: true });
  // The map first: the bundle names it, and a reader of the new bundle finds the new map.
  const ordered = [...outputFiles].sort((a, b) => Number(b.path.endsWith('.map')) - Number(a.path.endsWith('.map')));
  for (const file of ordered) {
    const temporary = `${file.path}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, file.contents);
    await rename(temporary, file.path);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildGateway().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
