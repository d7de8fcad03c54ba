/**
 * npm run schema:check [-- --allow-breaking] [--documents <manifest>, default $TRUSTED_DOCUMENTS_PATH or schema/persisted-queries.json]
 *                      [--config schema/supergraph.yaml] [--supergraph schema/supergraph.graphql]
 *                      [--base <supergraph file> | --base-ref <git ref>]
 *
 * Composes the subgraph SDLs, lists breaking, dangerous and safe changes of
 * the API schema against the committed supergraph (git HEAD's by default),
 * validates every trusted document against the new schema, and exits 1 on a
 * composition error, a breaking change or an invalid trusted document
 * (the last two are accepted with --allow-breaking).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkFailed, checkSchema, formatReport, type Baseline } from './lib/schema-check';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'schema/supergraph.yaml' },
    supergraph: { type: 'string', default: 'schema/supergraph.graphql' },
    // The gateway's TRUSTED_DOCUMENTS_PATH, with its default.
    documents: { type: 'string', default: process.env.TRUSTED_DOCUMENTS_PATH || 'schema/persisted-queries.json' },
    base: { type: 'string' },
    'base-ref': { type: 'string' },
    'allow-breaking': { type: 'boolean', default: false },
  },
});

const supergraphPath = resolve(values.supergraph!);
let baseline: Baseline | undefined;
if (values.base !== undefined && values['base-ref'] !== undefined) {
  console.error('schema:check: give --base or --base-ref, not both');
  process.exit(1);
}
if (values.base !== undefined) baseline = { kind: 'file', path: resolve(values.base) };
if (values['base-ref'] !== undefined) baseline = { kind: 'git', path: supergraphPath, ref: values['base-ref'] };

try {
  const report = await checkSchema({
    configPath: resolve(values.config!),
    supergraphPath,
    baseline,
    documentsPath: values.documents!,
  });
  const allowBreaking = values['allow-breaking']!;
  console.log(formatReport(report, { allowBreaking }));
  if (checkFailed(report, { allowBreaking })) process.exitCode = 1;
} catch (error) {
  console.error(`schema:check failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
