import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { composeFromConfig } from '../../scripts/lib/composition';
import { checkFailed, checkSchema, formatReport } from '../../scripts/lib/schema-check';
import { REPO } from './workspace';

let dir: string;
let products: string;
let original: string;
const paths = () => ({
  configPath: join(dir, 'supergraph.yaml'),
  supergraphPath: join(dir, 'supergraph.graphql'),
  documentsPath: join(dir, 'persisted-queries.json'),
});

/** A copy of schema/ whose supergraph.graphql is freshly composed: the "committed" baseline of every test. */
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'schema-check-'));
  await cp(join(REPO, 'schema'), dir, {
    recursive: true,
    filter: (source) => !source.endsWith('persisted-queries.json'),
  });
  const composed = composeFromConfig(paths().configPath);
  assert.ok(composed.ok, composed.ok ? '' : composed.errors.join('\n'));
  await writeFile(paths().supergraphPath, composed.supergraphSdl);
  products = join(dir, 'products.graphql');
  original = await readFile(products, 'utf8');
});
after(() => rm(dir, { recursive: true, force: true }));

/** Edits the `type Product` block of products.graphql. */
async function editProduct(edit: (block: string) => string): Promise<void> {
  const match = /type Product\b[^{]*\{[^}]*\}/.exec(original);
  assert.ok(match, 'products.graphql has a type Product');
  await writeFile(products, original.replace(match[0], edit(match[0])));
}
const withoutDescription = (block: string) => block.replace(/\n\s*description: String![^\n]*/, '');
const withWeight = (block: string) => block.replace(/\n\}$/, '\n  "Shipping weight in grams."\n  weightGrams: Int\n}');

function manifest(operations: { name: string; body: string }[]): string {
  return JSON.stringify({
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: operations.map((op, i) => ({ id: `op${i}`, name: op.name, type: 'query', body: op.body })),
  });
}

/** `npm run schema:check` itself, on the temp schema, without the npm wrapper. */
function schemaCheck(args: string[]): Promise<{ code: number | null; output: string }> {
  const p = paths();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO, 'scripts', 'schema-check.ts'),
        '--config',
        p.configPath,
        '--supergraph',
        p.supergraphPath,
        '--base',
        p.supergraphPath,
        '--documents',
        p.documentsPath,
        ...args,
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('reports a removed field as breaking and fails, unless --allow-breaking', async () => {
  await editProduct(withoutDescription);
  const report = await checkSchema({ ...paths(), baseline: { kind: 'file', path: paths().supergraphPath } });
  assert.deepEqual(
    report.breaking.map((c) => c.path),
    ['Product.description'],
  );
  assert.equal(checkFailed(report), true);
  assert.equal(checkFailed(report, { allowBreaking: true }), false);

  const refused = await schemaCheck([]);
  assert.equal(refused.code, 1, refused.output);
  assert.match(
    refused.output,
    /Breaking changes \(1\):\n {2}x Field 'description' was removed from object type 'Product'/,
  );
  assert.match(refused.output, /Result: FAIL \(1 breaking change\)/);
  const allowed = await schemaCheck(['--allow-breaking']);
  assert.equal(allowed.code, 0, allowed.output);
  assert.match(allowed.output, /Result: PASS with --allow-breaking/);
});

test('reports an added field as safe and passes', async () => {
  await editProduct(withWeight);
  const report = await checkSchema({ ...paths(), baseline: { kind: 'file', path: paths().supergraphPath } });
  assert.deepEqual(report.breaking, []);
  assert.ok(
    report.safe.some((c) => c.path === 'Product.weightGrams'),
    JSON.stringify(report.safe),
  );
  assert.equal(checkFailed(report), false);
  assert.equal(report.supergraph.stale, true, 'the supergraph file is older than the SDLs');
  assert.match(
    formatReport(report),
    /Safe changes \(\d+\):\n {2}\+ Field 'weightGrams' was added to object type 'Product'/,
  );

  const run = await schemaCheck([]);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /Result: PASS \(\d+ safe changes?, 0 dangerous changes, no breaking change\)/);
});

test('flags a trusted document that a change breaks, and tells it from one that was already invalid', async () => {
  await writeFile(
    paths().documentsPath,
    manifest([
      { name: 'ProductPage', body: 'query ProductPage($id: ID!) { product(id: $id) { name description } }' },
      { name: 'ProductName', body: 'query ProductName($id: ID!) { product(id: $id) { name } }' },
      { name: 'Stale', body: 'query Stale { product(id: "prd_1") { colour } }' },
    ]),
  );
  await editProduct(withoutDescription);
  const report = await checkSchema({ ...paths(), baseline: { kind: 'file', path: paths().supergraphPath } });
  assert.equal(report.documents.checked, 3);
  assert.deepEqual(
    report.documents.broken.map((doc) => [doc.name, doc.brokenByChange]),
    [
      ['ProductPage', true],
      ['Stale', false],
    ],
  );
  assert.match(report.documents.broken[0]!.errors[0]!, /Cannot query field "description" on type "Product"/);

  const run = await schemaCheck([]);
  assert.equal(run.code, 1, run.output);
  assert.match(run.output, /x ProductPage \(id op0\) broken by this change\n\s+Cannot query field "description"/);
  assert.match(run.output, /2 invalid trusted documents/);
  await rm(paths().documentsPath);
});

test('skips trusted documents with a notice when there is no manifest, and fails on a composition error', async () => {
  await writeFile(products, original);
  const clean = await checkSchema({ ...paths(), baseline: { kind: 'file', path: paths().supergraphPath } });
  assert.equal(clean.documents.present, false);
  assert.match(formatReport(clean), /Trusted documents: none checked \(.*persisted-queries\.json does not exist yet/);
  assert.match(formatReport(clean), /Result: PASS \(0 safe changes/);

  await writeFile(products, original.replace(/type Product\b/, 'type Product implements Missing'));
  const broken = await checkSchema({ ...paths(), baseline: { kind: 'file', path: paths().supergraphPath } });
  assert.equal(broken.composition.ok, false);
  assert.equal(checkFailed(broken, { allowBreaking: true }), true);
  assert.match(formatReport(broken), /Composition failed with/);
  await writeFile(products, original);
});
