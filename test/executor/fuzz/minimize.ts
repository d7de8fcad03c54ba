/**
 * Shrinks an operation on which the two gateways of a fuzz graph answer
 * differently to a smaller one on which they still do (greedy delta
 * debugging over the document): drop one selection, directive, argument or
 * alias at a time, keep the change when the document still validates and the
 * answers still differ, until no single change keeps the difference. The
 * smallest reproduction is what /work/brief/executor-bugs.md wants.
 */
import { Kind, parse, print, validate, visit, type ASTNode, type DocumentNode, type FieldNode } from 'graphql';
import { compareAnswers, createPlanInspector, type Answer } from './compare';
import type { FuzzGraph } from './graphs';
import { send, type FuzzDifference } from './run';

/** Options of {@link minimizeOperation}. */
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

/** What must still hold of the two answers (first gateway's, second's) for a smaller operation to be kept. */
export type Keep = (left: Answer, right: Answer, fetchesInParallel: () => boolean) => boolean;

/** Keeps operations the two gateways answer differently (as the run compares them). */
export function stillDifferent(options: Pick<MinimizeOptions, 'ignoreKeyOrder'> = {}): Keep {
  return (left, right, parallel) =>
    compareAnswers(left, right, parallel, { ignoreKeyOrder: options.ignoreKeyOrder }) === 'different';
}

/** Keeps operations either gateway answers with a 5xx (a valid query must never get one). */
export const stillServerError: Keep = (left, right) => left.status >= 500 || right.status >= 500;

/** Shrinks `operation` (sent as `callerName` on `graph`) while `keep` holds of its two answers. */
export async function minimizeOperation(
  graph: FuzzGraph,
  operation: { readonly query: string; readonly variables: Readonly<Record<string, unknown>>; readonly caller: string },
  keep: Keep,
  options: MinimizeOptions = {},
): Promise<Minimized> {
  const caller = graph.callers.find((c) => c.name === operation.caller) ?? graph.callers[0]!;
  const planner = createPlanInspector(graph.supergraphSdl);
  const [a, b] = graph.gateways as [FuzzGraph['gateways'][0], FuzzGraph['gateways'][0]];
  const maxTries = options.maxTries ?? 1500;
  const timeoutMs = options.timeoutMs ?? 15_000;
  let tries = 0;
  let best = { document: parse(operation.query), variables: { ...operation.variables } };
  let answers: Minimized['answers'] = [];

  async function holds(document: DocumentNode, variables: Record<string, unknown>): Promise<boolean> {
    tries += 1;
    const sent = { query: print(document), operationName: undefined, variables };
    const [left, right] = await Promise.all([
      send(a.url, sent, caller, timeoutMs),
      send(b.url, sent, caller, timeoutMs),
    ]);
    if (!keep(left, right, () => planner.fetchesInParallel(sent.query, undefined))) return false;
    answers = [
      { executor: a.executor, status: left.status, body: left.body.toString('utf8') },
      { executor: b.executor, status: right.status, body: right.body.toString('utf8') },
    ];
    return true;
  }

  if (!(await holds(best.document, best.variables)))
    throw new Error(`operation does not reproduce (seed, caller and data as in the run?):\n${operation.query}`);
  let shrunk = true;
  while (shrunk && tries < maxTries) {
    shrunk = false;
    for (const change of changes(best.document)) {
      if (tries >= maxTries) break;
      const candidate = tidy(apply(best.document, change), best.variables);
      if (validate(graph.schema, candidate.document).length > 0) continue;
      if (!(await holds(candidate.document, candidate.variables))) continue;
      best = candidate;
      shrunk = true;
      break;
    }
  }
  return { query: print(best.document), variables: best.variables, answers, tries };
}
