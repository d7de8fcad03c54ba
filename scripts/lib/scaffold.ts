import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Kind, parse, type DocumentNode } from 'graphql';
import YAML from 'yaml';
import { readSupergraphConfig } from './composition';
import { deriveNames, type NameOptions, type ScaffoldNames } from './scaffold-names';
import {
  indexTemplate,
  loadersTemplate,
  migrationTemplate,
  packageJsonTemplate,
  resolversTemplate,
  sdlTemplate,
  serverTemplate,
  testTemplate,
} from './scaffold-templates';
import { REPO_ROOT } from './subgraphs';

/** One file the scaffold writes. */
export interface FileChange {
  /** Absolute path. */
  readonly path: string;
  /** `create` refuses to overwrite; `update` replaces a file that exists. */
  readonly kind: 'create' | 'update';
  readonly content: string;
  /** For the report. */
  readonly what: string;
}

/** Everything `npm run subgraph:new` will do, computed and checked before anything is written. */
export interface ScaffoldPlan {
  readonly root: string;
  readonly names: ScaffoldNames;
  /** The standalone port (DEFAULT_PORT, routing_url). */
  readonly port: number;
  readonly routingUrl: string;
  readonly migration: string;
  readonly changes: readonly FileChange[];
}

export interface ScaffoldOptions extends NameOptions {
  /** Repository root. Default: this checkout. */
  root?: string;
  /** Standalone port. Default: one above the highest routing_url port in supergraph.yaml. */
  port?: number;
}

const ENTITY_PREFIXES_LINE = /export const ENTITY_PREFIXES = \{([^}]*)\} as const;/;
/** `@listSize` needs federation 2.9 or later. */
const MIN_FEDERATION = '2.9';

function paths(root: string, name: string) {
  return {
    yaml: join(root, 'schema', 'supergraph.yaml'),
    sdl: join(root, 'schema', `${name}.graphql`),
    folder: join(root, 'subgraphs', name),
    migrations: join(root, 'subgraphs', 'kit', 'migrations'),
    ids: join(root, 'subgraphs', 'kit', 'src', 'ids.ts'),
    packageJson: join(root, 'package.json'),
    test: join(root, 'test', 'subgraphs', `${name}.test.ts`),
  };
}

/** Type names and, per type, field names, over every subgraph SDL. */
function schemaIndex(documents: DocumentNode[]): {
  types: Set<string>;
  fields: Map<string, Set<string>>;
  entities: Set<string>;
} {
  const types = new Set<string>();
  const fields = new Map<string, Set<string>>();
  const entities = new Set<string>();
  for (const document of documents) {
    for (const definition of document.definitions) {
      if (!('name' in definition) || !definition.name) continue;
      const name = definition.name.value;
      if (definition.kind !== Kind.OBJECT_TYPE_EXTENSION) types.add(name);
      if (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) {
        const set = fields.get(name) ?? new Set<string>();
        for (const field of definition.fields ?? []) set.add(field.name.value);
        fields.set(name, set);
        if (
          definition.directives?.some(
            (d) =>
              d.name.value === 'key' &&
              !d.arguments?.some(
                (a) => a.name.value === 'resolvable' && a.value.kind === Kind.BOOLEAN && !a.value.value,
              ),
          )
        ) {
          entities.add(name);
        }
      }
    }
  }
  return { types, fields, entities };
}

function entityPrefixes(idsSource: string, idsPath: string): Map<string, string> {
  const match = ENTITY_PREFIXES_LINE.exec(idsSource);
  if (!match)
    throw new Error(
      `cannot find "export const ENTITY_PREFIXES = { … } as const;" on one line in ${idsPath}; add the prefix there by hand`,
    );
  return new Map([...match[1]!.matchAll(/(\w+): '([a-z]+)'/g)].map((m) => [m[1]!, m[2]!]));
}

function nextMigration(dir: string, table: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql'));
  for (const file of files) {
    if (new RegExp(`CREATE TABLE (IF NOT EXISTS )?${table}\\b`, 'i').test(readFileSync(join(dir, file), 'utf8'))) {
      throw new Error(`a table named ${table} already exists (${file}); pick another subgraph name`);
    }
  }
  const highest = Math.max(0, ...files.map((f) => Number(/^(\d+)_/.exec(f)?.[1] ?? 0)));
  return `${String(highest + 1).padStart(3, '0')}_${table}.sql`;
}

/**
 * Validates the name against everything that exists (folders, SDLs,
 * supergraph.yaml, workspaces, ID prefixes, GraphQL types and root fields,
 * tables) and computes every file to write. Throws with the reason; writes nothing.
 */
export function planSubgraph(name: string, options: ScaffoldOptions = {}): ScaffoldPlan {
  const root = options.root ?? REPO_ROOT;
  const names = deriveNames(name, options);
  const p = paths(root, name);
  const rel = (path: string): string => relative(root, path);

  const entries = readSupergraphConfig(p.yaml);
  if (entries.some((entry) => entry.name === name))
    throw new Error(`a subgraph named "${name}" is already in ${rel(p.yaml)}`);
  for (const path of [p.folder, p.sdl, p.test]) if (existsSync(path)) throw new Error(`${rel(path)} already exists`);
  const pkg = JSON.parse(readFileSync(p.packageJson, 'utf8')) as { workspaces?: string[] };
  const workspace = `subgraphs/${name}`;
  if (!Array.isArray(pkg.workspaces)) throw new Error(`${rel(p.packageJson)} has no "workspaces" list`);
  if (pkg.workspaces.includes(workspace))
    throw new Error(`${workspace} is already a workspace in ${rel(p.packageJson)}`);

  const idsSource = readFileSync(p.ids, 'utf8');
  const prefixes = entityPrefixes(idsSource, rel(p.ids));
  if (prefixes.has(names.entity))
    throw new Error(
      `the entity ${names.entity} already has an ID prefix in ${rel(p.ids)}; pick another name or --entity`,
    );
  const owner = [...prefixes].find(([, prefix]) => prefix === names.prefix)?.[0];
  if (owner) throw new Error(`the ID prefix "${names.prefix}" belongs to ${owner}; choose another with --prefix`);

  const documents = entries.map((entry) => parse(readFileSync(entry.file, 'utf8')));
  const index = schemaIndex(documents);
  for (const type of [names.entity, `${names.entity}Edge`, `${names.entity}Connection`, `Create${names.entity}Input`]) {
    if (index.types.has(type))
      throw new Error(`the supergraph already has a type ${type}; pick another name or --entity`);
  }
  for (const [type, field] of [
    ['Query', names.entityCamel],
    ['Query', names.listField],
    ['Mutation', `create${names.entity}`],
    ...(names.parent ? [[names.parent.entity, names.camel]] : []),
  ] as const) {
    if (index.fields.get(type)?.has(field))
      throw new Error(`the supergraph already has a field ${type}.${field}; pick another name`);
  }
  if (names.parent && !index.entities.has(names.parent.entity))
    throw new Error(`--extends ${names.parent.entity}: no subgraph in ${rel(p.yaml)} resolves that entity`);

  const ports = entries
    .map((entry) => Number(new URL(entry.url).port))
    .filter((port) => Number.isInteger(port) && port > 0);
  const port = options.port ?? Math.max(4000, ...ports) + 1;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`--port must be 1-65535, got ${port}`);
  const routingUrl = `http://127.0.0.1:${port}/graphql`;
  const migration = nextMigration(p.migrations, names.table);
  // Follow the federation version the other subgraphs link.
  const linked = /specs\.apollo\.dev\/federation\/v(\d+)\.(\d+)/.exec(readFileSync(entries[0]!.file, 'utf8'));
  const federation =
    linked && (Number(linked[1]) > 2 || Number(linked[2]) >= 9) ? `${linked[1]}.${linked[2]}` : MIN_FEDERATION;

  const yamlDocument = YAML.parseDocument(readFileSync(p.yaml, 'utf8'));
  yamlDocument.setIn(
    ['subgraphs', name],
    yamlDocument.createNode({ routing_url: routingUrl, schema: { file: `./${name}.graphql` } }),
  );
  const lastSubgraph = pkg.workspaces.findLastIndex((w) => w.startsWith('subgraphs/'));
  const workspaces = [...pkg.workspaces];
  workspaces.splice(lastSubgraph + 1, 0, workspace);
  const match = ENTITY_PREFIXES_LINE.exec(idsSource)!;
  const ids = idsSource.replace(
    match[0],
    `export const ENTITY_PREFIXES = {${match[1]!.replace(/\s*$/, '')}, ${names.entity}: '${names.prefix}' } as const;`,
  );

  const file = (path: string, content: string, what: string): FileChange => ({ path, kind: 'create', content, what });
  const src = join(p.folder, 'src');
  const changes: FileChange[] = [
    file(p.sdl, sdlTemplate(names, federation), 'its SDL, the source of truth of its schema'),
    file(join(p.folder, 'package.json'), packageJsonTemplate(names), `the workspace package @commerce/${name}`),
    file(
      join(src, 'server.ts'),
      serverTemplate(names, port),
      'its definition: SDL + resolvers + loaders (never listens)',
    ),
    file(join(src, 'loaders.ts'), loadersTemplate(names), 'per-request DataLoaders: one statement per shard per batch'),
    file(join(src, 'resolvers.ts'), resolversTemplate(names), 'resolvers, reading and writing through the kit'),
    file(join(src, 'index.ts'), indexTemplate(names), `entry point: listens on ${port} (PORT)`),
    file(
      join(p.migrations, migration),
      migrationTemplate(names, migration),
      `its table, migrated on every shard at start`,
    ),
    file(
      p.test,
      testTemplate(names, names.parent ? prefixes.get(names.parent.entity) : undefined),
      'a test through the gateway',
    ),
    { path: p.yaml, kind: 'update', content: String(yamlDocument), what: `registered: routing_url ${routingUrl}` },
    {
      path: p.packageJson,
      kind: 'update',
      content: `${JSON.stringify({ ...pkg, workspaces }, null, 2)}\n`,
      what: `workspace ${workspace} added`,
    },
    { path: p.ids, kind: 'update', content: ids, what: `ID prefix ${names.entity}: '${names.prefix}' registered` },
  ];
  return { root, names, port, routingUrl, migration, changes };
}

/** Writes the plan; if any write fails, removes what it created and restores what it changed, then rethrows. */
export function applyPlan(plan: ScaffoldPlan): void {
  const created: string[] = [];
  const createdDirs: string[] = [];
  const originals = new Map<string, string>();
  try {
    for (const change of plan.changes) {
      if (change.kind === 'create') {
        if (existsSync(change.path)) throw new Error(`${change.path} appeared meanwhile; not overwriting it`);
        let dir = dirname(change.path);
        const missing: string[] = [];
        while (!existsSync(dir)) {
          missing.unshift(dir);
          dir = dirname(dir);
        }
        mkdirSync(dirname(change.path), { recursive: true });
        createdDirs.push(...missing);
        writeFileSync(change.path, change.content, { flag: 'wx' });
        created.push(change.path);
      } else {
        originals.set(change.path, readFileSync(change.path, 'utf8'));
        writeFileSync(change.path, change.content);
      }
    }
  } catch (error) {
    for (const path of created.reverse()) rmSync(path, { force: true });
    for (const dir of createdDirs.reverse()) rmSync(dir, { recursive: true, force: true });
    for (const [path, content] of originals) writeFileSync(path, content);
    throw error;
  }
}

/**
 * Links the workspace the way npm does (node_modules/@commerce/<name> →
 * subgraphs/<name>), so `@commerce/<name>` resolves before the next
 * `npm install`. Returns false when there is no node_modules/@commerce.
 */
export function linkWorkspace(root: string, name: string): boolean {
  const scope = join(root, 'node_modules', '@commerce');
  if (!existsSync(scope)) return false;
  const link = join(scope, name);
  if (!existsSync(link)) symlinkSync(relative(scope, join(root, 'subgraphs', name)), link, 'dir');
  return true;
}
