import { createHash } from 'node:crypto';
import {
  buildOperationContext,
  executeQueryPlan,
  type ApolloGateway,
  type Experimental_DidResolveQueryPlanCallback,
  type GraphQLDataSource,
} from '@apollo/gateway';
import type { OperationContext } from '@apollo/gateway/dist/operationContext.js';
import {
  OpenTelemetryAttributeNames,
  OpenTelemetrySpanNames,
  operationContextSpanAttributes,
  recordExceptions,
  requestContextSpanAttributes,
  tracer,
} from '@apollo/gateway/dist/utilities/opentelemetry.js';
import { operationFromDocument, type Schema } from '@apollo/federation-internals';
import type { QueryPlan, QueryPlanner } from '@apollo/query-planner';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { SpanStatusCode, type Span, type SpanOptions } from '@opentelemetry/api';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { Counter } from 'prom-client';
import type { Logger } from '@commerce/common';
import type { ExecutorMode } from '../config';
import { OperationCompiler } from './compiled-operation';
import type { PlanRun } from './plan';
import { Recording, canonicalResult } from './verify';

/**
 * Query-plan execution. ApolloGateway keeps loading and reloading the
 * supergraph, validating variables and planning (with its plan cache); this
 * replaces only what runs a plan: `compiled` (default) runs the plan
 * compiled once per cached plan (./plan, ./shape), `apollo` leaves
 * @apollo/gateway's `executeQueryPlan`, `verify` answers with the compiled
 * executor and checks it against Apollo's on the same subgraph answers.
 */

/** The parts of ApolloGateway (2.x) the executor reads; they are not public API, so {@link installExecutor} checks them. */
interface GatewayInternals {
  schema?: GraphQLSchema;
  apiSchema?: Schema;
  supergraphSchema?: GraphQLSchema;
  queryPlanner?: QueryPlanner;
  queryPlanStore: KeyValueCache<QueryPlan>;
  serviceMap: Record<string, { dataSource: GraphQLDataSource }>;
  config: { telemetry?: Parameters<typeof recordExceptions>[2] };
  recursiveSelectionsLimitDisabled: boolean;
  nonLocalSelectionsLimitDisabled: boolean;
  experimental_didResolveQueryPlan?: Experimental_DidResolveQueryPlanCallback;
  validateIncomingRequest(
    requestContext: GatewayGraphQLRequestContext,
    operationContext: OperationContext,
  ): readonly GraphQLError[];
  executor: (requestContext: GatewayGraphQLRequestContext) => Promise<GatewayExecutionResult>;
}

/** Options of {@link installExecutor}. */
export interface ExecutorOptions {
  mode: ExecutorMode;
  logger: Logger;
  /** `gateway_executor_mismatches_total` (verify mode). */
  mismatches: Counter;
}

const NO_VARIABLES: Readonly<Record<string, unknown>> = Object.freeze(Object.create(null) as Record<string, unknown>);

/** Replaces the plan execution of a gateway not yet loaded; `apollo` leaves it as it is. */
export function installExecutor(gateway: ApolloGateway, { mode, logger, mismatches }: ExecutorOptions): void {
  if (mode === 'apollo') return;
  const g = gateway as unknown as GatewayInternals;
  if (typeof g.executor !== 'function' || typeof g.validateIncomingRequest !== 'function' || !g.queryPlanStore)
    throw new Error('This @apollo/gateway version does not have the internals the compiled executor needs');
  // One per API schema: requests still running on a replaced supergraph keep theirs.
  const compilers = new WeakMap<GraphQLSchema, OperationCompiler>();

  /** The schemas a request runs on, taken when it starts: a supergraph reload does not change them under it. */
  interface Schemas {
    readonly api: GraphQLSchema;
    readonly apiInternal: Schema;
    readonly supergraph: GraphQLSchema;
  }

  function compilerFor(schemas: Schemas): OperationCompiler {
    let compiler = compilers.get(schemas.api);
    if (!compiler) {
      compiler = new OperationCompiler(schemas.api, schemas.supergraph);
      compilers.set(schemas.api, compiler);
    }
    return compiler;
  }

  async function plan(requestContext: GatewayGraphQLRequestContext, schemas: Schemas): Promise<QueryPlan> {
    const { request, document, queryHash } = requestContext;
    const key = request.operationName
      ? createHash('sha256').update(queryHash).update(request.operationName).digest('hex')
      : queryHash;
    const cached = await g.queryPlanStore.get(key);
    if (cached) return cached;
    const built = tracer.startActiveSpan(
      OpenTelemetrySpanNames.PLAN,
      requestContext.operationName
        ? { attributes: { [OpenTelemetryAttributeNames.GRAPHQL_OPERATION_NAME]: requestContext.operationName } }
        : {},
      (span) => {
        try {
          const operation = operationFromDocument(schemas.apiInternal, document, {
            operationName: request.operationName,
          });
          return g.queryPlanner!.buildQueryPlan(operation, {
            recursiveSelectionsLimitDisabled: g.recursiveSelectionsLimitDisabled,
            nonLocalSelectionsLimitDisabled: g.nonLocalSelectionsLimitDisabled,
          });
        } catch (error) {
          failed(span, [error as Error]);
          throw error;
        } finally {
          span.end();
        }
      },
    );
    try {
      await g.queryPlanStore.set(key, built);
    } catch (error) {
      logger.warn({ err: error }, 'could not store a query plan');
    }
    return built;
  }

  function failed(span: Span, errors: readonly Error[]): void {
    recordExceptions(span, errors as Error[], g.config.telemetry);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }

  /** Runs `work` in Apollo's span `name`, which records the result's errors, or what it throws, as Apollo's executor does. */
  function traced(
    name: string,
    options: SpanOptions,
    work: (span: Span) => Promise<GatewayExecutionResult>,
  ): Promise<GatewayExecutionResult> {
    return tracer.startActiveSpan(name, options, async (span) => {
      try {
        const result = await work(span);
        if (result.errors) failed(span, result.errors);
        return result;
      } catch (error) {
        failed(span, [error as Error]);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  async function runCompiled(
    queryPlan: QueryPlan,
    services: Record<string, GraphQLDataSource>,
    requestContext: GatewayGraphQLRequestContext,
    operationContext: OperationContext,
    schemas: Schemas,
  ): Promise<{ result: GatewayExecutionResult; parallel: boolean }> {
    const compiled = compilerFor(schemas).compiled(queryPlan, operationContext);
    const given = requestContext.request.variables ?? NO_VARIABLES;
    const variables = compiled.defaults
      ? (Object.assign(Object.create(null), compiled.defaults, given) as Record<string, unknown>)
      : given;
    const run: PlanRun = {
      requestContext,
      services,
      variables: given,
      defaultedVariables: variables,
      errors: [],
      data: Object.create(null) as Record<string, unknown>,
      telemetry: g.config.telemetry,
    };
    const result = await traced(OpenTelemetrySpanNames.EXECUTE, {}, async () => {
      await compiled.plan.execute(run);
      return tracer.startActiveSpan(OpenTelemetrySpanNames.POST_PROCESSING, (post): GatewayExecutionResult => {
        try {
          const { data, errors } = compiled.shaper.shape(run.data, variables, (field) =>
            compiled.introspect(field, requestContext.request.variables),
          );
          if (run.errors.length === 0 && errors.length > 0) {
            failed(post, errors);
            return { extensions: { valueCompletion: errors }, data };
          }
          return run.errors.length === 0 ? { data } : { errors: run.errors, data };
        } catch (error) {
          failed(post, [error as Error]);
          if (error instanceof GraphQLError) return { errors: [error] };
          if (error instanceof Error) return { errors: [new GraphQLError(error.message, { originalError: error })] };
          logger.error({ err: error }, 'unexpected error during query plan execution');
          return { errors: [new GraphQLError('Unexpected error during query plan execution')] };
        } finally {
          post.end();
        }
      });
    });
    return { result, parallel: compiled.plan.parallel };
  }

  async function verify(
    queryPlan: QueryPlan,
    services: Record<string, GraphQLDataSource>,
    requestContext: GatewayGraphQLRequestContext,
    operationContext: OperationContext,
    schemas: Schemas,
  ): Promise<GatewayExecutionResult> {
    const recording = new Recording();
    const { result, parallel } = await runCompiled(
      queryPlan,
      recording.recording(services),
      requestContext,
      operationContext,
      schemas,
    );
    let reference: GatewayExecutionResult;
    try {
      reference = await executeQueryPlan(
        queryPlan,
        recording.replaying(services),
        requestContext,
        operationContext,
        schemas.supergraph,
        schemas.apiInternal,
        g.config.telemetry,
      );
    } catch (error) {
      reference = { errors: [new GraphQLError(`apollo executor threw: ${(error as Error).message}`)] };
    }
    const ours = canonicalResult(result, parallel);
    const theirs = canonicalResult(reference, parallel);
    const unused = recording.unused();
    if (ours !== theirs || recording.unmatched.length > 0 || unused.length > 0) {
      mismatches.inc();
      logger.error(
        {
          operationName: requestContext.request.operationName ?? null,
          query: requestContext.source?.slice(0, 2000),
          variables: requestContext.request.variables,
          compiled: ours.slice(0, 4000),
          apollo: theirs.slice(0, 4000),
          onlyApolloSent: recording.unmatched,
          onlyCompiledSent: unused,
        },
        'executor mismatch',
      );
    }
    return result;
  }

  g.executor = (requestContext) =>
    traced(
      OpenTelemetrySpanNames.REQUEST,
      { attributes: requestContextSpanAttributes(requestContext, g.config.telemetry) },
      async (span) => {
        const { request, document } = requestContext;
        const schemas: Schemas = { api: g.schema!, apiInternal: g.apiSchema!, supergraph: g.supergraphSchema! };
        const operationContext = buildOperationContext({
          schema: schemas.api,
          operationDocument: document,
          operationName: request.operationName,
        });
        span.setAttributes(operationContextSpanAttributes(operationContext));
        const invalid = g.validateIncomingRequest(requestContext, operationContext);
        if (invalid.length > 0) return { errors: [...invalid] };
        const queryPlan = await plan(requestContext, schemas);
        const services = Object.create(null) as Record<string, GraphQLDataSource>;
        for (const [name, { dataSource }] of Object.entries(g.serviceMap)) services[name] = dataSource;
        g.experimental_didResolveQueryPlan?.({ queryPlan, serviceMap: services, requestContext, operationContext });
        return mode === 'verify'
          ? await verify(queryPlan, services, requestContext, operationContext, schemas)
          : (await runCompiled(queryPlan, services, requestContext, operationContext, schemas)).result;
      },
    );
}
