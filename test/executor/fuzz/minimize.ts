/**
 * Shrinks an operation on which the two gateways of a fuzz graph answer
 * differently to a smaller one on which they still do (greedy delta
 * debugging over the document): drop one selection, directive, argument or
 * alias at a time, keep the change when the document still validates and the
 * answers still differ, until no single change keeps the difference. The
 * smallest reproduction is what /work/brief/executor-bugs.md wants.
 */
import { Kind, parse, print, validate, visit, type ASTNode, type DocumentNode, type FieldNode } from 'graphql';
import { compareAnswers, createPlanInspector } from './compare';
import type { FuzzGraph } from './graphs';
import { send, type FuzzDifference } from './run';

/** Options of {@link minimizeDifference}. */
export interface MinimizeOptions {
  /** Most pairs of sends spent. Default 1500. */
  readonly maxTries?: number;
  /** As in the run: differences of key order alone do not count. Default false. */
  readonly ignoreKeyOrder?: boolean;
  /** Budget of one send. Default 15000 ms. */
  readonly timeoutMs?: number;
}

/** The smallest operation found, with both answers to it. */
export interface Minimized {
  readonly query: string;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly answers: FuzzDifference['answers'];
  readonly tries: number;
}

type Change = { node: ASTNode; kind: 'drop' | 'unalias' };

/** Every single change worth trying, largest first (selections before directives, arguments and aliases). */
function changes(document: DocumentNode): Change[] {
  const selections: Change[] = [];
  const smaller: Change[] = [];
  visit(document, {
    Field(node) {
      selections.push({ node, kind: 'drop' });
      if (node.alias) smaller.push({ node, kind: 'unalias' });
    },
    InlineFragment: (node) => void selections.push({ node, kind: 'drop' }),
    FragmentSpread: (node) => void selections.push({ node, kind: 'drop' }),
    Directive: (node) => void smaller.push({ node, kind: 'drop' }),
    Argument: (node) => void smaller.push({ node, kind: 'drop' }),
  });
  return [...selections, ...smaller];
}

function apply(document: DocumentNode, change: Change): DocumentNode {
  return visit(document, {
    enter(node) {
      if (node !== change.node) return undefined;
      return change.kind === 'drop' ? null : { ...(node as FieldNode), alias: undefined };
    },
  });
}

/** Drops fragments nothing spreads and variables nothing uses (with their values), until none is left. */
function tidy(
  document: DocumentNode,
  variables: Readonly<Record<string, unknown>>,
): { document: DocumentNode; variables: Record<string, unknown> } {
  let current = document;
  for (;;) {
    const spread = new Set<string>();
    const used = new Set<string>();
    visit(current, {
      FragmentSpread: (node) => void spread.add(node.name.value),
      Variable: (node, _key, parent) => void (isDefinition(parent) ? undefined : used.add(node.name.value)),
    });
    const next = visit(current, {
      FragmentDefinition: (node) => (spread.has(node.name.value) ? undefined : null),
      VariableDefinition: (node) => (used.has(node.variable.name.value) ? undefined : null),
    });
    if (print(next) === print(current)) {
      const kept = Object.fromEntries(Object.entries(variables).filter(([name]) => used.has(name)));
      return { document: current, variables: kept };
    }
    current = next;
  }
}

function isDefinition(parent: unknown): boolean {
  return !!parent && typeof parent === 'object' && (parent as ASTNode).kind === Kind.VARIABLE_DEFINITION;
}

/** Shrinks `difference` (found on `graph`) while its two gateways keep answering differently. */
export async function minimizeDifference(
  graph: FuzzGraph,
  difference: FuzzDifference,
  options: MinimizeOptions = {},
): Promise<Minimized> {
  const caller = graph.callers.find((c) => c.name === difference.caller) ?? graph.callers[0]!;
  const planner = createPlanInspector(graph.supergraphSdl);
  const [a, b] = graph.gateways as [FuzzGraph['gateways'][0], FuzzGraph['gateways'][0]];
  const maxTries = options.maxTries ?? 1500;
  const timeoutMs = options.timeoutMs ?? 15_000;
  let tries = 0;
  let best = { document: parse(difference.query), variables: { ...difference.variables } };
  let answers = difference.answers;

  async function stillDiffers(document: DocumentNode, variables: Record<string, unknown>): Promise<boolean> {
    tries += 1;
    const operation = { query: print(document), operationName: undefined, variables };
    const [left, right] = await Promise.all([
      send(a.url, operation, caller, timeoutMs),
      send(b.url, operation, caller, timeoutMs),
    ]);
    const parallel = () => planner.fetchesInParallel(operation.query, undefined);
    if (compareAnswers(left, right, parallel, { ignoreKeyOrder: options.ignoreKeyOrder }) !== 'different') return false;
    answers = [
      { executor: a.executor, status: left.status, body: left.body.toString('utf8') },
      { executor: b.executor, status: right.status, body: right.body.toString('utf8') },
    ];
    return true;
  }

  let shrunk = true;
  while (shrunk && tries < maxTries) {
    shrunk = false;
    for (const change of changes(best.document)) {
      if (tries >= maxTries) break;
      const candidate = tidy(apply(best.document, change), best.variables);
      if (validate(graph.schema, candidate.document).length > 0) continue;
      if (!(await stillDiffers(candidate.document, candidate.variables))) continue;
      best = candidate;
      shrunk = true;
      break;
    }
  }
  return { query: print(best.document), variables: best.variables, answers, tries };
}
