import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { apiSchemaOf, buildManifestFromFolder } from '../../scripts/lib/persisted-manifest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = join(root, 'node_modules/.bin/tsx');

describe('npm run persisted:build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'persisted-build-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the committed schema/persisted-queries.json is what the storefront operations build to (run persisted:build if this fails)', () => {
    const schema = apiSchemaOf(readFileSync(join(root, 'schema/supergraph.graphql'), 'utf8'));
    const result = buildManifestFromFolder(join(root, 'schema/clients/storefront'), schema);
    assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
    const committed = JSON.parse(readFileSync(join(root, 'schema/persisted-queries.json'), 'utf8'));
    assert.deepEqual(committed, result.manifest);
    assert.ok(result.manifest.operations.length >= 5);
    for (const operation of result.manifest.operations) assert.match(operation.id, /^[0-9a-f]{64}$/);
  });

  it('fails with a clear message naming the operation and the problem when an operation does not validate', () => {
    const client = join(dir, 'client');
    cpSync(join(root, 'schema/clients/storefront'), client, { recursive: true });
    writeFileSync(join(client, 'broken.graphql'), 'query Broken { product(id: "prd_1") { id colour } }\n');
    const run = spawnSync(tsx, ['scripts/persisted-build.ts', '--client', client, '--out', join(dir, 'out.json')], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stderr, /broken\.graphql: operation Broken: Cannot query field "colour" on type "Product"/);
  });

  it('refuses anonymous operations and duplicate names', () => {
    const client = join(dir, 'dupes');
    cpSync(join(root, 'schema/clients/storefront'), client, { recursive: true });
    writeFileSync(join(client, 'more.graphql'), '{ products { edges { cursor } } }\nquery Viewer { me { id } }\n');
    const result = buildManifestFromFolder(
      client,
      apiSchemaOf(readFileSync(join(root, 'schema/supergraph.graphql'), 'utf8')),
    );
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors.join('\n');
    assert.match(String(errors), /operations must be named/);
    assert.match(String(errors), /operation Viewer is defined twice/);
  });
});
