import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { GraphQLError, parse, validate, type GraphQLSchema } from 'graphql';
import { loadManifest } from '@commerce/gateway';
import { composeFromConfig } from './composition';
import { apiSchemaOf } from './persisted-manifest';

/** Where the schema to compare against comes from. */
export type Baseline =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'git'; readonly path: string; readonly ref: string };

export interface SchemaCheckOptions {
  /** rover-format supergraph.yaml listing the subgraph SDLs. */
  configPath: string;
  /** The committed supergraph file (also the file `npm run compose` writes). */
  supergraphPath: string;
  /**
   * What to compare with. Default: `supergraphPath` at git `HEAD` when it is
   * tracked there (so a supergraph already recomposed in the working tree
   * still shows its changes), else the file as it is.
   */
  baseline?: Baseline;
  /** Trusted documents in Apollo's persisted-query manifest format; skipped with a notice when absent. */
  documentsPath: string;
}

export interface ChangeLine {
  message: string;
  path?: string;
  reason?: string;
}

export interface BrokenDocument {
  id: string;
  name: string;
  errors: string[];
  /** True when the document was valid against the baseline: this change breaks it. */
  brokenByChange: boolean;
}

export interface SchemaCheckReport {
  composition: { ok: true; subgraphs: string[] } | { ok: false; errors: string[] };
  /** Description of the baseline, or why there is none. */
  baseline: { described: string; found: boolean };
  breaking: ChangeLine[];
  dangerous: ChangeLine[];
  safe: ChangeLine[];
  documents: { path: string; present: boolean; checked: number; broken: BrokenDocument[] };
  /** The supergraph file, and whether it differs from what the SDLs compose to. */
  supergraph: { path: string; stale: boolean };
}

/** GraphQL errors of a document against a schema (syntax errors included); empty when it is valid. */
function documentErrors(schema: GraphQLSchema, body: string): string[] {
  try {
    return validate(schema, parse(body)).map((error) => error.message);
  } catch (error) {
    return [error instanceof GraphQLError ? `Syntax error: ${error.message}` : (error as Error).message];
  }
}

function baselineSdl(baseline: Baseline): string | undefined {
  if (baseline.kind === 'file') return existsSync(baseline.path) ? readFileSync(baseline.path, 'utf8') : undefined;
  try {
    return execFileSync('git', ['-C', dirname(baseline.path), 'show', `${baseline.ref}:./${basename(baseline.path)}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
}

/** `HEAD`'s version when the file is tracked in a git work tree, else the file itself. */
export function defaultBaseline(supergraphPath: string): Baseline {
  const git: Baseline = { kind: 'git', path: supergraphPath, ref: 'HEAD' };
  return baselineSdl(git) !== undefined ? git : { kind: 'file', path: supergraphPath };
}

const toLine = (change: Change): ChangeLine => ({
  message: change.message,
  path: change.path,
  reason: change.criticality.reason,
});

/**
 * Composes the subgraph SDLs, diffs the new API schema against the
 * baseline's with @graphql-inspector/core (breaking, dangerous, safe), and
 * validates every trusted document against the new API schema.
 */
export async function checkSchema(options: SchemaCheckOptions): Promise<SchemaCheckReport> {
  const rel = (path: string): string => {
    const short = relative(process.cwd(), path);
    return short && !short.startsWith('..') ? short : path;
  };
  const report: SchemaCheckReport = {
    composition: { ok: false, errors: [] },
    baseline: { described: '', found: false },
    breaking: [],
    dangerous: [],
    safe: [],
    documents: { path: options.documentsPath, present: existsSync(options.documentsPath), checked: 0, broken: [] },
    supergraph: { path: rel(options.supergraphPath), stale: false },
  };
  const composed = composeFromConfig(options.configPath);
  if (!composed.ok) {
    report.composition = { ok: false, errors: composed.errors };
    return report;
  }
  report.composition = { ok: true, subgraphs: composed.subgraphs.map((s) => s.name) };
  report.supergraph.stale =
    !existsSync(options.supergraphPath) || readFileSync(options.supergraphPath, 'utf8') !== composed.supergraphSdl;
  const next = apiSchemaOf(composed.supergraphSdl);

  const baseline = options.baseline ?? defaultBaseline(options.supergraphPath);
  const described = baseline.kind === 'git' ? `${rel(baseline.path)} at git ${baseline.ref}` : rel(baseline.path);
  const previousSdl = baselineSdl(baseline);
  let previous: GraphQLSchema | undefined;
  if (previousSdl !== undefined) {
    try {
      previous = apiSchemaOf(previousSdl);
    } catch (error) {
      throw new Error(`the baseline ${described} is not a valid supergraph: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  report.baseline = {
    described: previous ? described : `${described} (not found: every type counts as new)`,
    found: previous !== undefined,
  };

  if (previous) {
    for (const change of await diff(previous, next)) {
      const level = change.criticality.level;
      (level === CriticalityLevel.Breaking
        ? report.breaking
        : level === CriticalityLevel.Dangerous
          ? report.dangerous
          : report.safe
      ).push(toLine(change));
    }
  }

  if (report.documents.present) {
    // The gateway's own manifest parser: what it would refuse, this refuses.
    const { operations } = await loadManifest(options.documentsPath);
    report.documents.checked = operations.length;
    for (const operation of operations) {
      const errors = documentErrors(next, operation.body);
      if (errors.length === 0) continue;
      const brokenByChange = previous !== undefined && documentErrors(previous, operation.body).length === 0;
      report.documents.broken.push({ id: operation.id, name: operation.name, errors, brokenByChange });
    }
  }
  return report;
}

/** True when the check fails: composition errors always; breaking changes and broken documents unless allowed. */
export function checkFailed(report: SchemaCheckReport, { allowBreaking = false } = {}): boolean {
  if (!report.composition.ok) return true;
  return !allowBreaking && (report.breaking.length > 0 || report.documents.broken.length > 0);
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The human report `npm run schema:check` prints. */
export function formatReport(report: SchemaCheckReport, { allowBreaking = false } = {}): string {
  const lines: string[] = [];
  if (!report.composition.ok) {
    lines.push(
      `Composition failed with ${plural(report.composition.errors.length, 'error')}:`,
      ...report.composition.errors.map((e) => `  ${e}`),
      '',
      'Result: FAIL (the subgraphs do not compose)',
    );
    return lines.join('\n');
  }
  lines.push(
    `Composed ${report.composition.subgraphs.join(', ')}; compared the API schema with ${report.baseline.described}.`,
    '',
  );
  const section = (title: string, marker: string, changes: ChangeLine[]): void => {
    lines.push(`${title} (${changes.length})${changes.length ? ':' : ''}`);
    for (const change of changes) {
      lines.push(`  ${marker} ${change.message}${change.path ? `  [${change.path}]` : ''}`);
      if (change.reason && marker !== '+') lines.push(`      ${change.reason}`);
    }
  };
  section('Breaking changes', 'x', report.breaking);
  section('Dangerous changes', '!', report.dangerous);
  section('Safe changes', '+', report.safe);
  lines.push('');

  const { documents } = report;
  if (!documents.present) {
    lines.push(
      `Trusted documents: none checked (${documents.path} does not exist yet; pass --documents <manifest> to check one).`,
    );
  } else {
    lines.push(
      `Trusted documents (${documents.path}): ${documents.checked} checked, ${documents.broken.length} invalid against the new schema${documents.broken.length ? ':' : '.'}`,
    );
    for (const doc of documents.broken) {
      lines.push(
        `  x ${doc.name} (id ${doc.id.slice(0, 16)}${doc.id.length > 16 ? '…' : ''})${doc.brokenByChange ? ' broken by this change' : ' already invalid before this change'}`,
      );
      for (const error of doc.errors) lines.push(`      ${error}`);
    }
  }
  if (report.supergraph.stale)
    lines.push(
      '',
      `Note: ${report.supergraph.path} is not what the SDLs compose to: run npm run compose and commit it.`,
    );

  const failed = checkFailed(report, { allowBreaking });
  const problems = [
    ...(report.breaking.length ? [plural(report.breaking.length, 'breaking change')] : []),
    ...(documents.broken.length ? [plural(documents.broken.length, 'invalid trusted document')] : []),
  ];
  lines.push(
    '',
    failed
      ? `Result: FAIL (${problems.join(', ')}). Rerun with --allow-breaking to accept them.`
      : problems.length
        ? `Result: PASS with --allow-breaking (${problems.join(', ')} accepted).`
        : `Result: PASS (${plural(report.safe.length, 'safe change')}, ${plural(report.dangerous.length, 'dangerous change')}, no breaking change).`,
  );
  return lines.join('\n');
}
