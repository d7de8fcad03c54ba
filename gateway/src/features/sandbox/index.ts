import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { createSandbox, type SandboxSignIn } from '../../sandbox';
import { SANDBOX_PAGE_HEADERS } from '../../sandbox/page';
import type { GatewayFeature } from '../feature';

/**
 * The sandbox (`GATEWAY_SANDBOX`): GraphiQL for a browser GET of the GraphQL
 * path, its files under `/sandbox/`; when off, Apollo's landing page is off.
 */
export function useSandbox({
  enabled,
  debugHeaders,
  signIn,
}: {
  enabled: boolean;
  debugHeaders: Readonly<Record<string, string>> | null;
  /** "Sign in as" (development only: the gateway passes it only outside production with JWT_SECRET). */
  signIn?: SandboxSignIn;
}): GatewayFeature {
  const base = { name: 'sandbox', onCacheHit: false, duringWarmup: false };
  if (!enabled) return { ...base, operation: ApolloServerPluginLandingPageDisabled() };
  const sandbox = createSandbox({ debugHeaders, signIn });
  return {
    ...base,
    operation: sandbox.plugin,
    routes: sandbox.routes,
    // The page is what a browser GET of the GraphQL path gets: it carries the page's security headers.
    wrap: (handler) => (req, res) => {
      if (req.method === 'GET' && req.headers.accept?.includes('text/html'))
        for (const [name, value] of Object.entries(SANDBOX_PAGE_HEADERS)) res.setHeader(name, value);
      return handler(req, res);
    },
  };
}
