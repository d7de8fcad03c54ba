import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SUPERGRAPH_HEADER, composeFromConfig } from '../../scripts/lib/composition';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = join(root, 'node_modules/.bin/tsx');

describe('composition', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compose-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function writeConfig(subgraphs: Record<string, string>): string {
    const yaml = ['federation_version: =2.9.0', 'subgraphs:'];
    for (const [name, sdl] of Object.entries(subgraphs)) {
      writeFileSync(join(dir, `${name}.graphql`), sdl);
      yaml.push(
        `  ${name}:`,
        `    routing_url: http://127.0.0.1:1/${name}`,
        '    schema:',
        `      file: ./${name}.graphql`,
      );
    }
    const path = join(dir, 'supergraph.yaml');
    writeFileSync(path, yaml.join('\n'));
    return path;
  }

  function compose(config: string) {
    return spawnSync(tsx, ['scripts/compose.ts', '--config', config, '--out', join(dir, 'out.graphql')], {
      cwd: root,
      encoding: 'utf8',
    });
  }

  it('the committed schema/supergraph.graphql is what `npm run compose` produces (run it and commit if this fails)', () => {
    const result = composeFromConfig(join(root, 'schema/supergraph.yaml'));
    assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
    const committed = readFileSync(join(root, 'schema/supergraph.graphql'), 'utf8');
    assert.ok(committed.startsWith(SUPERGRAPH_HEADER), 'the generated file says it is generated');
    assert.equal(committed, result.supergraphSdl, 'schema/supergraph.graphql is stale: run `npm run compose`');
  });

  const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])\n';

  it('prints each composition error with its code, message and location, and exits 1', () => {
    const config = writeConfig({
      a: `${LINK}type Query { a: Thing }\ntype Thing @key(fields: "id") { id: ID! name: String }\n`,
      b: `${LINK}type Query { b: Thing }\ntype Thing @key(fields: "id") { id: ID! name: Int }\n`,
    });
    const run = compose(config);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stderr, /Composition failed with \d+ error/);
    assert.match(run.stderr, /FIELD_TYPE_MISMATCH: .*Thing\.name/);
    assert.match(run.stderr, /at .*a\.graphql:3:\d+/);
    assert.match(run.stderr, /at .*b\.graphql:3:\d+/);
  });

  it('reports a syntax error in a subgraph SDL with its file, line and column', () => {
    const config = writeConfig({ a: `${LINK}type Query { a: String\n` });
    const run = compose(config);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /GRAPHQL_PARSE_FAILED: .*Syntax Error/);
    assert.match(run.stderr, /a\.graphql:3:1/);
  });

  it('writes a supergraph with the do-not-edit header when composition succeeds', () => {
    const config = writeConfig({ a: `${LINK}type Query { a: String }\n` });
    const run = compose(config);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(readFileSync(join(dir, 'out.graphql'), 'utf8').startsWith(SUPERGRAPH_HEADER));
  });
});
