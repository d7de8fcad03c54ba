import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { createSandbox } from '../../sandbox';
import type { GatewayFeature } from '../feature';

/**
 * The sandbox (`GATEWAY_SANDBOX`): GraphiQL for a browser GET of the GraphQL
 * path, its files under `/sandbox/`; when off, Apollo's landing page is off.
 */
export function useSandbox({
  enabled,
  debugHeaders,
}: {
  enabled: boolean;
  debugHeaders: Readonly<Record<string, string>> | null;
}): GatewayFeature {
  const base = { name: 'sandbox', onCacheHit: false, duringWarmup: false };
  if (!enabled) return { ...base, operation: ApolloServerPluginLandingPageDisabled() };
  const sandbox = createSandbox({ debugHeaders });
  return { ...base, operation: sandbox.plugin, routes: sandbox.routes };
}
