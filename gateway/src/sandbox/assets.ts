import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/** One file the sandbox page loads: from an installed package, or generated here. */
export type AssetSource = { readonly package: string; readonly file: string } | { readonly text: string };

export interface AssetDefinition {
  /** Name under `/sandbox/`. */
  readonly name: string;
  readonly contentType: string;
  readonly source: AssetSource;
}

interface Loaded {
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Path of a file inside an installed package (its `exports` may hide subpaths, so go through `package.json`). */
function packageFile(pkg: string, file: string): string {
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch (error) {
    throw new Error(
      `The sandbox needs the package ${pkg}, which is not installed (npm install, or turn the sandbox off with GATEWAY_SANDBOX=false)`,
      { cause: error },
    );
  }
  return join(dirname(manifest), file);
}

/**
 * Serves the sandbox's files from memory: each is read (and gzipped) on its
 * first request, then answered with an ETag (304 on a match) and revalidated
 * by browsers on every load, so a package upgrade shows up at once.
 */
export function createAssetRoutes(prefix: string, assets: readonly AssetDefinition[]): Record<string, RouteHandler> {
  const routes: Record<string, RouteHandler> = {};
  for (const asset of assets) {
    const path = 'package' in asset.source ? packageFile(asset.source.package, asset.source.file) : undefined;
    const text = 'text' in asset.source ? asset.source.text : undefined;
    let loading: Promise<Loaded> | undefined;
    const load = async (): Promise<Loaded> => {
      const body = path ? await readFile(path) : Buffer.from(text ?? '', 'utf8');
      return {
        body,
        gzipped: await gzipAsync(body),
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      };
    };

    routes[`${prefix}/${asset.name}`] = async (req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
        res.end('Method not allowed');
        return;
      }
      loading ??= load();
      let loaded: Loaded;
      try {
        loaded = await loading;
      } catch (error) {
        loading = undefined;
        throw error;
      }
      const headers: Record<string, string | number> = {
        'content-type': asset.contentType,
        'cache-control': 'no-cache',
        etag: loaded.etag,
        vary: 'accept-encoding',
        'x-content-type-options': 'nosniff',
      };
      if (req.headers['if-none-match'] === loaded.etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      const gzipped = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = gzipped ? loaded.gzipped : loaded.body;
      if (gzipped) headers['content-encoding'] = 'gzip';
      headers['content-length'] = body.length;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
  }
  return routes;
}
