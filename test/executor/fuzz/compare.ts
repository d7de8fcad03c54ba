/**
 * "The same answer" for the executor differential fuzzing (ISSUE14): equal
 * HTTP status and equal response body bytes. One exception: Apollo's
 * executor appends errors in the order subgraph fetches arrive, so when the
 * query plan fetches in parallel and an answer has several errors, their order
 * may differ run to run; only then are the errors compared as a multiset (and
 * the rest of the body still byte for byte).
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
export type Comparison = 'identical' | 'errors-reordered' | 'key-order' | 'different';

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
      const operation = operationFromDocument(supergraph.schema, parse(query), { operationName });
      return parallel(planner.buildQueryPlan(operation).node);
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

/** Compares two answers to one operation (see the file comment for the one exception to byte equality). */
export function compareAnswers(a: Answer, b: Answer, plan: () => boolean, options: CompareOptions = {}): Comparison {
  if (a.status !== b.status) return 'different';
  if (a.body.equals(b.body)) return 'identical';
  const left = parseBody(a.body);
  const right = parseBody(b.body);
  if (options.ignoreKeyOrder && left && right) {
    // Errors in another order count as such only where the plan fetches in parallel, as below.
    const sorted = Array.isArray(left.errors) && left.errors.length > 1 && plan();
    const loose = (body: Body) =>
      stableStringify(
        sorted && body.errors ? { ...body, errors: body.errors.map((e) => stableStringify(e)).sort() } : body,
      );
    if (loose(left) === loose(right)) return 'key-order';
  }
  if (!left || !right || !Array.isArray(left.errors) || !Array.isArray(right.errors)) return 'different';
  if (left.errors.length < 2 || left.errors.length !== right.errors.length) return 'different';
  // Only bodies written as JSON.stringify writes them (a final newline aside), so re-serializing hides no byte.
  if (!canonical(left, a.body) || !canonical(right, b.body)) return 'different';
  if (withSortedErrors(left) !== withSortedErrors(right)) return 'different';
  return plan() ? 'errors-reordered' : 'different';
}
