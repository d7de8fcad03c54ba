/**
 * npm run compose [-- --config schema/supergraph.yaml --out schema/supergraph.graphql]
 * Composes the subgraph SDLs into the supergraph; prints each composition
 * error (code, message, location) and exits 1 when composition fails.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { composeFromConfig } from './lib/composition';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'schema/supergraph.yaml' },
    out: { type: 'string', default: 'schema/supergraph.graphql' },
  },
});
const config = resolve(values.config!);
const out = resolve(values.out!);

try {
  const result = composeFromConfig(config);
  if (!result.ok) {
    console.error(`Composition failed with ${result.errors.length} error(s):`);
    for (const error of result.errors) console.error(`  ${error}`);
    process.exit(1);
  }
  writeFileSync(out, result.supergraphSdl);
  console.log(`Composed ${result.subgraphs.map((s) => s.name).join(', ')} into ${values.out}`);
} catch (error) {
  console.error(`Composition failed: ${(error as Error).message}`);
  process.exit(1);
}
