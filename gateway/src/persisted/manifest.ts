import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** One operation of an Apollo persisted-query manifest. */
export interface ManifestOperation {
  readonly id: string;
  readonly name: string;
  readonly type: 'query' | 'mutation' | 'subscription';
  readonly body: string;
}

/** A loaded manifest, indexed for the request path. */
export interface Manifest {
  readonly operations: readonly ManifestOperation[];
  byId(id: string): ManifestOperation | undefined;
  /** The operation whose body is exactly `query` (compared by sha256). */
  byBody(query: string): ManifestOperation | undefined;
}

export const MANIFEST_FORMAT = 'apollo-persisted-query-manifest';

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Validates a manifest object (`{format, version: 1, operations: [{id, name, type, body}]}`); errors name the bad entry. */
export function buildManifest(raw: unknown, source = 'manifest'): Manifest {
  const data = raw as { format?: unknown; version?: unknown; operations?: unknown } | null;
  if (data?.format !== MANIFEST_FORMAT) throw new Error(`${source}: "format" must be "${MANIFEST_FORMAT}"`);
  if (data.version !== 1) throw new Error(`${source}: "version" must be 1`);
  if (!Array.isArray(data.operations)) throw new Error(`${source}: "operations" must be an array`);
  const ids = new Map<string, ManifestOperation>();
  const bodies = new Map<string, ManifestOperation>();
  const operations = data.operations.map((entry: Partial<ManifestOperation>, i): ManifestOperation => {
    const where = `${source}: operations[${i}]`;
    if (typeof entry?.id !== 'string' || entry.id === '') throw new Error(`${where}.id must be a non-empty string`);
    if (typeof entry.body !== 'string' || entry.body === '')
      throw new Error(`${where}.body must be a non-empty string`);
    if (typeof entry.name !== 'string') throw new Error(`${where}.name must be a string`);
    if (entry.type !== 'query' && entry.type !== 'mutation' && entry.type !== 'subscription')
      throw new Error(`${where}.type must be query, mutation or subscription`);
    if (ids.has(entry.id)) throw new Error(`${where}.id ${JSON.stringify(entry.id)} is used twice`);
    const operation = Object.freeze({ id: entry.id, name: entry.name, type: entry.type, body: entry.body });
    ids.set(operation.id, operation);
    bodies.set(sha256(operation.body), operation);
    return operation;
  });
  return Object.freeze({
    operations: Object.freeze(operations),
    byId: (id: string) => ids.get(id),
    byBody: (query: string) => bodies.get(sha256(query)),
  });
}

export async function loadManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the trusted-document manifest ${path}: ${(error as Error).message}`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return buildManifest(raw, path);
}

export const EMPTY_MANIFEST: Manifest = buildManifest({ format: MANIFEST_FORMAT, version: 1, operations: [] });
