/**
 * npm run persisted:build [-- --client schema/clients/storefront --out schema/persisted-queries.json --supergraph schema/supergraph.graphql]
 * Builds the trusted-document manifest from a client's operation files,
 * validating each against the supergraph; exits 1 naming every invalid one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { apiSchemaOf, buildManifestFromFolder } from './lib/persisted-manifest';

const { values } = parseArgs({
  options: {
    client: { type: 'string', default: 'schema/clients/storefront' },
    out: { type: 'string', default: 'schema/persisted-queries.json' },
    supergraph: { type: 'string', default: 'schema/supergraph.graphql' },
  },
});

try {
  const schema = apiSchemaOf(readFileSync(resolve(values.supergraph!), 'utf8'));
  const result = buildManifestFromFolder(resolve(values.client!), schema);
  if (!result.ok) {
    console.error(`persisted:build failed with ${result.errors.length} error(s):`);
    for (const error of result.errors) console.error(`  ${error}`);
    process.exit(1);
  }
  writeFileSync(resolve(values.out!), `${JSON.stringify(result.manifest, null, 2)}\n`);
  console.log(
    `Wrote ${result.manifest.operations.length} operations to ${values.out}: ${result.manifest.operations.map((o) => o.name).join(', ')}`,
  );
} catch (error) {
  console.error(`persisted:build failed: ${(error as Error).message}`);
  process.exit(1);
}
