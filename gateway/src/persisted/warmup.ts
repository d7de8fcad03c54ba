import type { ApolloServer } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from '@commerce/common';
import { createContext, type GatewayContext } from '../context';
import type { GatewayMetrics } from '../metrics';
import type { Manifest } from './manifest';
import { placeholderVariables } from './placeholders';

/** A manifest operation that the current supergraph no longer accepts. */
export interface InvalidOperation {
  id: string;
  name: string;
  errors: string[];
}

/** The context of warm-up requests: anonymous, in the `warmup` phase (the plan stage only, no subgraph called). */
export function warmupContext(): GatewayContext {
  const principal = Object.freeze({
    kind: 'anonymous' as const,
    userId: undefined,
    scopes: [],
    apiKeyName: undefined,
    apiKeyHash: undefined,
    sessionId: undefined,
    requestId: 'plan-warmup',
    clientIp: undefined,
  });
  return createContext(principal, 'warmup');
}

/**
 * Runs every manifest operation through Apollo Server with subgraph calls
 * short-circuited, so parsing, validation and query planning are cached
 * before real traffic arrives. Operations that fail validation are reported.
 */
export async function warmUpPlans(
  apollo: ApolloServer<GatewayContext>,
  schema: GraphQLSchema,
  manifest: Manifest,
  metrics: Pick<GatewayMetrics, 'planWarmupSeconds' | 'trustedDocumentsInvalid'>,
  logger: Logger,
): Promise<InvalidOperation[]> {
  const started = performance.now();
  const invalid: InvalidOperation[] = [];
  for (const operation of manifest.operations) {
    if (operation.type === 'subscription') continue;
    const operationName = operation.name || undefined;
    let variables: Record<string, unknown>;
    try {
      variables = placeholderVariables(schema, operation.body, operationName);
    } catch (error) {
      invalid.push({ id: operation.id, name: operation.name, errors: [(error as Error).message] });
      continue;
    }
    const response = await apollo.executeOperation(
      { query: operation.body, operationName, variables },
      { contextValue: warmupContext() },
    );
    const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
    const rejected = errors.filter(
      (e) => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' || e.extensions?.code === 'GRAPHQL_PARSE_FAILED',
    );
    if (rejected.length)
      invalid.push({ id: operation.id, name: operation.name, errors: rejected.map((e) => e.message) });
  }
  const seconds = (performance.now() - started) / 1000;
  metrics.planWarmupSeconds.set(seconds);
  metrics.trustedDocumentsInvalid.set(invalid.length);
  logger.info(
    { operations: manifest.operations.length, ms: Math.round(seconds * 1000) },
    'planned every trusted document',
  );
  for (const operation of invalid) {
    logger.error(
      { id: operation.id, name: operation.name, errors: operation.errors },
      'trusted document no longer validates against the supergraph',
    );
  }
  return invalid;
}
