/**
 * "The same answer" for the executor differential fuzzing (ISSUE14): equal
 * HTTP status and equal response body bytes. One exception: Apollo's
 * executor appends errors in the order subgraph fetches arrive, so when the
 * query plan fetches in parallel and an answer has several errors, their order
 * may differ run to run; only then are the errors compared as a multiset (and
 * the rest of the body still byte for byte). And stack traces
 * (`extensions.stacktrace`, sent outside production only) are not compared:
 * the two executors reach an error through different frames.
 */
import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner, type PlanNode, type SubscriptionNode } from '@apollo/query-planner';
import stableStringify from 'fast-json-stable-stringify';
import { parse } from 'graphql';

/** One HTTP answer. */
export interface Answer {
  readonly status: number;
  readonly body: Buffer;
}

/** How two answers compared. */
export type Comparison = 'identical' | 'stacktraces' | 'errors-reordered' | 'key-order' | 'different';

/** Tells whether the plan of an operation has parallel fetches. */
export interface PlanInspector {
  fetchesInParallel(query: string, operationName: string | undefined): boolean;
}

/** Plans operations of `supergraphSdl` (as the gateway loads it) with @apollo/query-planner. */
export function createPlanInspector(supergraphSdl: string): PlanInspector {
  const supergraph = Supergraph.build(supergraphSdl);
  const planner = new QueryPlanner(supergraph);
  const parallel = (node: PlanNode | SubscriptionNode | undefined): boolean => {
    if (!node) return false;
    switch (node.kind) {
      case 'Parallel':
        return true;
      case 'Sequence':
        return node.nodes.some(parallel);
      case 'Flatten':
        return parallel(node.node);
      case 'Condition':
        return parallel(node.ifClause) || parallel(node.elseClause);
      case 'Fetch':
        return false;
      default:
        // Defer and subscription plans are not generated; count them as parallel rather than miss a reordering.
        return true;
    }
  };
  return {
    fetchesInParallel(query, operationName) {
      try {
        const operation = operationFromDocument(supergraph.schema, parse(query), { operationName });
        return parallel(planner.buildQueryPlan(operation).node);
      } catch {
        // The planner cannot plan it (the gateways answer 500 then): no fetch at all, none in parallel.
        return false;
      }
    },
  };
}

interface Body {
  errors?: unknown[];
  [key: string]: unknown;
}

/** The body with its errors in a canonical order (their JSON texts sorted), re-serialized. */
function withSortedErrors(body: Body): string {
  const errors = body.errors!.map((e) => JSON.stringify(e)).sort();
  return JSON.stringify({ ...body, errors: errors.map((e) => JSON.parse(e) as unknown) });
}

function parseBody(bytes: Buffer): Body | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Body) : undefined;
  } catch {
    return undefined;
  }
}

function canonical(body: Body, bytes: Buffer): boolean {
  return JSON.stringify(body) === bytes.toString('utf8').replace(/\n$/, '');
}

/** How {@link compareAnswers} compares. */
export interface CompareOptions {
  /**
   * Diagnosis only, never for a verdict: answers whose JSON is equal once
   * every object's keys are sorted count as `key-order`, so the differences
   * left are those of values. Default false.
   */
  readonly ignoreKeyOrder?: boolean;
}

/** The body without the errors' `extensions.stacktrace`. */
function withoutStacktraces(body: Body): Body {
  const errors = body.errors?.map((error) => {
    const { extensions, ...rest } = error as { extensions?: Record<string, unknown> };
    if (!extensions || !('stacktrace' in extensions)) return error;
    const { stacktrace: _stacktrace, ...kept } = extensions;
    return { ...rest, extensions: kept };
  });
  return errors ? { ...body, errors } : body;
}

/** Compares two answers to one operation (see the file comment for the exceptions to byte equality). */
export function compareAnswers(a: Answer, b: Answer, plan: () => boolean, options: CompareOptions = {}): Comparison {
  if (a.status !== b.status) return 'different';
  if (a.body.equals(b.body)) return 'identical';
  const parsedLeft = parseBody(a.body);
  const parsedRight = parseBody(b.body);
  // Only bodies written as JSON.stringify writes them (a final newline aside), so re-serializing hides no byte.
  if (!parsedLeft || !parsedRight || !canonical(parsedLeft, a.body) || !canonical(parsedRight, b.body))
    return 'different';
  const left = withoutStacktraces(parsedLeft);
  const right = withoutStacktraces(parsedRight);
  if (JSON.stringify(left) === JSON.stringify(right)) return 'stacktraces';
  const several =
    Array.isArray(left.errors) &&
    Array.isArray(right.errors) &&
    left.errors.length > 1 &&
    left.errors.length === right.errors.length;
  if (several && withSortedErrors(left) === withSortedErrors(right) && plan()) return 'errors-reordered';
  if (options.ignoreKeyOrder) {
    // Errors in another order count as such only where the plan fetches in parallel, as above.
    const sorted = several && plan();
    const loose = (body: Body) =>
      stableStringify(
        sorted && body.errors ? { ...body, errors: body.errors.map((e) => stableStringify(e)).sort() } : body,
      );
    if (loose(left) === loose(right)) return 'key-order';
  }
  return 'different';
}
