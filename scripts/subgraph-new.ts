/**
 * npm run subgraph:new -- <name> [--extends Product] [--entity Review] [--prefix rev] [--port 4004] [--skip-install]
 *
 * Scaffolds a working subgraph like users/products/orders: schema/<name>.graphql,
 * subgraphs/<name>/ (package, server, loaders, resolvers, entry point), a
 * migration for its table, a test through the gateway; registers it in
 * schema/supergraph.yaml (so `npm start` and the test platform run it), the
 * npm workspaces and the kit's ID prefixes; links the workspace and records it
 * in package-lock.json; checks that it composes and prints the next steps.
 */
import { spawnSync } from 'node:child_process';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { composeFromConfig } from './lib/composition';
import { applyPlan, linkWorkspace, planSubgraph, type ScaffoldPlan } from './lib/scaffold';
import { portVariable } from './lib/subgraphs';

const USAGE = `usage: npm run subgraph:new -- <name> [options]

  <name>             lowercase letters/digits, words joined by "-" (e.g. reviews, gift-cards)
  --extends <Type>   belong to an entity (User, Product or Order) and add <Type>.<name> to it
  --entity <Type>    the new entity type (default: PascalCase singular of the name)
  --prefix <abc>     its ID prefix, 2-6 letters (default: the entity's first 3 letters)
  --port <n>         its standalone port (default: next after the others)
  --skip-install     do not run npm to record the workspace in package-lock.json`;

function fail(message: string): never {
  console.error(`subgraph:new: ${message}\n\n${USAGE}`);
  process.exit(1);
}

/** Records the new workspace in package-lock.json without touching node_modules or the network. */
function updateLockfile(root: string): { ok: boolean; detail: string } {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const args = ['install', '--package-lock-only', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'];
  const result = spawnSync(npm, args, { cwd: root, encoding: 'utf8', timeout: 120_000 });
  const detail = `npm ${args.join(' ')}`;
  if (result.status === 0) return { ok: true, detail };
  return {
    ok: false,
    detail: `${detail} failed: ${(result.stderr || result.error?.message || '').trim().split('\n').slice(-3).join(' ')}`,
  };
}

function report(plan: ScaffoldPlan, install: { ok: boolean; detail: string } | undefined, linked: boolean): string {
  const { names, root } = plan;
  const rel = (path: string): string => relative(root, path);
  const width = Math.max(...plan.changes.map((c) => rel(c.path).length));
  const lines = [
    `Created the ${names.name} subgraph: entity ${names.entity}, IDs ${names.prefix}_<number>${names.parent ? `, belongs to ${names.parent.entity} (adds ${names.parent.entity}.${names.camel})` : ''}.`,
    '',
    ...plan.changes.map((c) => `  ${c.kind === 'create' ? '+' : '~'} ${rel(c.path).padEnd(width)}  ${c.what}`),
    '',
    linked
      ? `Linked the workspace: node_modules/@commerce/${names.name} -> subgraphs/${names.name}.`
      : 'No node_modules/@commerce here: run npm install to link the new workspace.',
  ];
  if (install?.ok) lines.push(`Recorded it in package-lock.json (${install.detail}).`);
  else if (install)
    lines.push(
      `Could not update package-lock.json (${install.detail}): run npm install before committing, or npm ci will refuse the lockfile.`,
    );
  else lines.push('Skipped package-lock.json (--skip-install): run npm install before committing.');

  const composed = composeFromConfig(`${root}/schema/supergraph.yaml`);
  lines.push(
    composed.ok
      ? `Composition check: ${composed.subgraphs.map((s) => s.name).join(', ')} compose.`
      : `Composition check FAILED (fix the SDLs, then npm run compose):\n    ${composed.errors.join('\n    ')}`,
  );
  const sample = names.parent
    ? `{ ${names.parent.field}(id: "…") { id ${names.camel}(first: 5) { id title } } }`
    : `{ ${names.listField}(first: 5) { edges { node { id title } } } }`;
  lines.push(
    '',
    'Next steps:',
    `  1. npm run compose          write schema/supergraph.graphql with ${names.name} (a running gateway hot-reloads it)`,
    `  2. npm run schema:check     see what changes for clients (additions only: safe)`,
    `  3. npm start                starts ${names.name} on ${plan.port} (${portVariable(names.name)}) with the others; migrates its table`,
    `  4. query it:                ${sample}`,
    `     create one:              mutation { create${names.entity}(input: { ${names.parent ? `${names.parent.field}Id: "…", ` : ''}title: "Hello" }) { id } }`,
    `  5. npx tsx --test test/subgraphs/${names.name}.test.ts`,
    `  Then replace the placeholder field "title" in schema/${names.name}.graphql, the migration and the resolvers with real ones.`,
  );
  return lines.join('\n');
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      extends: { type: 'string' },
      entity: { type: 'string' },
      prefix: { type: 'string' },
      port: { type: 'string' },
      'skip-install': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length !== 1)
    fail(
      positionals.length === 0 ? 'give the name of the new subgraph' : `one name only, got ${positionals.join(' ')}`,
    );
  const port = values.port === undefined ? undefined : Number(values.port);

  let plan: ScaffoldPlan;
  try {
    plan = planSubgraph(positionals[0]!, {
      parent: values.extends,
      entity: values.entity,
      prefix: values.prefix,
      port,
    });
  } catch (error) {
    fail((error as Error).message);
  }
  applyPlan(plan);
  const linked = linkWorkspace(plan.root, plan.names.name);
  const install = values['skip-install'] ? undefined : updateLockfile(plan.root);
  console.log(report(plan, install, linked));
}

main();
