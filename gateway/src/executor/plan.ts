import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { GraphQLDataSource } from '@apollo/gateway';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import type { FetchNode, PlanNode, QueryPlan, ResponsePath } from '@apollo/query-planner';
import { SpanStatusCode } from '@opentelemetry/api';
import { OpenTelemetrySpanNames, recordExceptions, tracer } from '@apollo/gateway/dist/utilities/opentelemetry.js';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { downstreamServiceError, hydratedErrorPath } from './errors';
import {
  compileRequires,
  compileRewrites,
  mergeInto,
  type RepresentationCollector,
  type Rewriter,
  type TypeTester,
} from './merge';
import { getOwn, setOwn } from './own';

/**
 * A query plan compiled into closures, once per cached plan: every node
 * knows its children, every fetch its representation collector and
 * rewrites, every flatten its path, so running it walks no plan and parses
 * nothing. Same semantics as @apollo/gateway's `executeNode`/`executeFetch`:
 * the same subgraph requests, the same merges, the same errors in the same places.
 */

type Value = Record<string, unknown>;
type Services = Readonly<Record<string, GraphQLDataSource>>;

/** The state of one execution of a plan. */
export interface PlanRun {
  readonly requestContext: GatewayGraphQLRequestContext;
  readonly services: Services;
  /** The client's variables as sent (what Apollo forwards to subgraphs). */
  readonly variables: Readonly<Record<string, unknown>>;
  /** Variables with their defaults (for plan conditions). */
  readonly defaultedVariables: Readonly<Record<string, unknown>>;
  /** Errors of fetches, in the order they happen. */
  readonly errors: GraphQLError[];
  /** The merged result: every fetch writes into it. */
  readonly data: Value;
  /** Telemetry config handed to @apollo/gateway (`recordExceptions`). */
  readonly telemetry: Parameters<typeof recordExceptions>[2];
}

interface Cursor {
  readonly path: ResponsePath;
  /** The object (root) or the list of entities a fetch works on. */
  readonly data: unknown;
}

type Step = (run: PlanRun, cursor: Cursor) => Promise<void>;

/** The compiled plan: run it over a fresh result. */
export interface CompiledPlan {
  readonly execute: (run: PlanRun) => Promise<void>;
  /** Whether some fetches run side by side (their errors then arrive in no fixed order). */
  readonly parallel: boolean;
}

export function compilePlan(plan: QueryPlan, types: TypeTester): CompiledPlan {
  const node = plan.node;
  if (node?.kind === 'Subscription') throw new Error('Execution of subscriptions not supported by gateway');
  let parallel = false;
  const compile = (at: PlanNode): Step => {
    switch (at.kind) {
      case 'Sequence': {
        const steps = at.nodes.map(compile);
        return async (run, cursor) => {
          for (const step of steps) await step(run, cursor);
        };
      }
      case 'Parallel': {
        parallel = true;
        const steps = at.nodes.map(compile);
        return async (run, cursor) => {
          await Promise.all(steps.map((step) => step(run, cursor)));
        };
      }
      case 'Flatten': {
        const path = at.path;
        const inner = compile(at.node);
        return async (run, cursor) => {
          const data = flattenAt(cursor.data, path, 0);
          if (data) await inner(run, { path: cursor.path.concat(path), data });
        };
      }
      case 'Fetch':
        return compileFetch(at, types);
      case 'Condition': {
        const whenTrue = at.ifClause ? compile(at.ifClause) : undefined;
        const whenFalse = at.elseClause ? compile(at.elseClause) : undefined;
        const variable = at.condition;
        return async (run, cursor) => {
          const value = getOwn(run.defaultedVariables, variable);
          if (value === undefined) throw new Error(`Missing value for variable $${variable} (and no default found)`);
          if (typeof value !== 'boolean')
            throw new Error(`Invalid non-boolean value ${String(value)} for Boolean! variable $${variable}`);
          const branch = value ? whenTrue : whenFalse;
          if (branch) await branch(run, cursor);
        };
      }
      case 'Defer':
        throw new Error('@defer support is not available in the gateway');
    }
  };
  const root = node ? compile(node) : undefined;
  return {
    parallel,
    execute: root ? (run) => root(run, { path: [], data: run.data }) : () => Promise.resolve(),
  };
}

/**
 * The values at `path`, as @apollo/gateway's `flattenResultsAtPath`: up to
 * the first `@` the value itself; from there one list of everything found,
 * each `@` (and the value at the end) flattening one level of lists.
 */
function flattenAt(value: unknown, path: ResponsePath, index: number): unknown {
  if (index === path.length || value === undefined || value === null) return value;
  const element = path[index];
  if (element === '@') {
    const out: unknown[] = [];
    flattenInto(value, path, index, out);
    return out;
  }
  return flattenAt(step(value, element), path, index + 1);
}

/** Appends to `out` what Apollo's `flatMap` would spread: the path walked from `index` (an `@` or later) from `value`. */
function flattenInto(value: unknown, path: ResponsePath, index: number, out: unknown[]): void {
  if (value === undefined || value === null) {
    out.push(value);
    return;
  }
  if (index === path.length) {
    if (Array.isArray(value)) for (const item of value) out.push(item);
    else out.push(value);
    return;
  }
  const element = path[index];
  if (element === '@') {
    if (!Array.isArray(value)) throw new TypeError('value.flatMap is not a function');
    for (const item of value) flattenInto(item, path, index + 1, out);
    return;
  }
  flattenInto(step(value, element), path, index + 1, out);
}

function step(value: unknown, element: string | number | undefined): unknown {
  if (typeof element !== 'string') throw new Error(`Unexpected ${typeof element} found in path`);
  if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${element}`);
  return getOwn(value as object, element);
}

function compileFetch(fetch: FetchNode, types: TypeTester): Step {
  const collect: RepresentationCollector | undefined = fetch.requires
    ? compileRequires(fetch.requires, types)
    : undefined;
  const inputRewrites: Rewriter = compileRewrites(fetch.inputRewrites, types);
  const outputRewrites: Rewriter = compileRewrites(fetch.outputRewrites, types);
  const usages = fetch.variableUsages ?? [];
  const serviceName = fetch.serviceName;

  async function send(run: PlanRun, cursor: Cursor, variables: Value): Promise<Value | null | undefined> {
    const service = run.services[serviceName]!;
    const response = await service.process({
      kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
      request: { query: fetch.operation, variables, operationName: fetch.operationName },
      incomingRequestContext: run.requestContext,
      context: run.requestContext.context,
      document: fetch.operationDocumentNode,
      pathInIncomingRequest: cursor.path,
    });
    if (response.errors) {
      const errors = response.errors as readonly GraphQLFormattedError[];
      let hydrated: ResponsePath[] | undefined;
      for (const error of errors) {
        const path = hydratedErrorPath(error.path, !!collect, cursor.path, run.data, () => (hydrated ??= []));
        run.errors.push(downstreamServiceError(error, serviceName, path));
      }
      // Apollo's usage reporting reads these when a subgraph sent no inline trace (ours never ask for one).
      const metrics = run.requestContext.metrics as { nonFtv1ErrorPaths?: unknown[] } | undefined;
      if (metrics && !response.extensions?.ftv1) {
        const paths = errors.map((error) => ({ subgraph: serviceName, path: error.path }));
        if (metrics.nonFtv1ErrorPaths) metrics.nonFtv1ErrorPaths.push(...paths);
        else metrics.nonFtv1ErrorPaths = paths;
      }
    }
    return response.data as Value | null | undefined;
  }

  async function execute(run: PlanRun, cursor: Cursor): Promise<void> {
    if (!run.services[serviceName]) throw new Error(`Couldn't find service with name "${serviceName}"`);
    let entities: Value[];
    if (Array.isArray(cursor.data)) {
      entities = [];
      for (const entity of cursor.data) if (entity !== null && entity !== undefined) entities.push(entity as Value);
    } else {
      entities = [cursor.data as Value];
    }
    if (entities.length < 1) return;
    const variables: Value = {};
    const provided = run.variables;
    for (const name of usages) {
      if (Object.hasOwn(provided, name) && provided[name] !== undefined) setOwn(variables, name, provided[name]);
    }
    if (!collect) {
      const received = await send(run, cursor, variables);
      if (received) outputRewrites(received);
      for (const entity of entities) mergeInto(entity, received);
      return;
    }
    const representations: Value[] = [];
    const owners: Value[] = [];
    for (const entity of entities) {
      const representation = collect(entity);
      if (representation && representation.__typename) {
        inputRewrites(representation);
        representations.push(representation);
        owners.push(entity);
      }
    }
    if (representations.length < 1) return;
    if (Object.hasOwn(variables, 'representations')) throw new Error('Variables cannot contain key "representations"');
    variables.representations = representations;
    const received = await send(run, cursor, variables);
    if (!received) return;
    const list = received._entities;
    if (!Array.isArray(list)) throw new Error('Expected "data._entities" in response to be an array');
    if (list.length !== representations.length)
      throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
    for (let i = 0; i < list.length; i++) {
      const entity = list[i] as Value | null | undefined;
      const owner = owners[i]!;
      if (entity && !entity.__typename) entity.__typename = owner.__typename;
      outputRewrites(entity);
      mergeInto(owner, entity);
    }
  }

  return async (run, cursor) => {
    await tracer.startActiveSpan(
      OpenTelemetrySpanNames.FETCH,
      { attributes: { service: serviceName } },
      async (span) => {
        try {
          await execute(run, cursor);
        } catch (error) {
          recordExceptions(span, [error as Error], run.telemetry);
          span.setStatus({ code: SpanStatusCode.ERROR });
          run.errors.push(error as GraphQLError);
        } finally {
          span.end();
        }
      },
    );
  };
}
