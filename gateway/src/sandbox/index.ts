import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { createAssetRoutes, type AssetDefinition, type RouteHandler } from './assets';
import { SANDBOX_SCRIPT, SANDBOX_STYLE } from './client';
import { renderSandboxPage } from './page';
import { SIGN_IN_PATH, createSignInRoute, type SandboxSignIn } from './sign-in';

export type { SandboxSignIn } from './sign-in';

/** Where the sandbox's files are served. */
export const SANDBOX_ASSET_PREFIX = '/sandbox';

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** In load order: React first, GraphiQL (needs React globals), the explorer (needs GraphiQL's), ours last. */
const SCRIPTS: readonly AssetDefinition[] = [
  {
    name: 'react.production.min.js',
    contentType: JS,
    source: { package: 'react', file: 'umd/react.production.min.js' },
  },
  {
    name: 'react-dom.production.min.js',
    contentType: JS,
    source: { package: 'react-dom', file: 'umd/react-dom.production.min.js' },
  },
  { name: 'graphiql.min.js', contentType: JS, source: { package: 'graphiql', file: 'graphiql.min.js' } },
  {
    name: 'plugin-explorer.umd.js',
    contentType: JS,
    source: { package: '@graphiql/plugin-explorer', file: 'dist/index.umd.js' },
  },
  { name: 'sandbox.js', contentType: JS, source: { text: SANDBOX_SCRIPT } },
];

const STYLES: readonly AssetDefinition[] = [
  { name: 'graphiql.min.css', contentType: CSS, source: { package: 'graphiql', file: 'graphiql.min.css' } },
  {
    name: 'plugin-explorer.css',
    contentType: CSS,
    source: { package: '@graphiql/plugin-explorer', file: 'dist/style.css' },
  },
  { name: 'sandbox.css', contentType: CSS, source: { text: SANDBOX_STYLE } },
];

function defaultQuery(debugHeader: string | null, signIn: boolean): string {
  const debug = debugHeader
    ? `# The Debug panel (sidebar) shows the query plan, cost and
# cache status of the last response: the ${debugHeader} header
# under Headers asks the gateway for them.
`
    : '';
  const who = signIn
    ? `# "Sign in" (sidebar) sends the requests as a seeded user or the
# admin; then try  { me { name email orders(first: 3) { edges { node { id status total { formatted } } } } } }
`
    : '';
  return `# GraphQL sandbox, served by this gateway (works offline).
#
# Write a query, or build one with the Explorer (sidebar),
# then run it with Ctrl-Enter or the run button.
${who}${debug}
query Storefront {
  products(first: 5) {
    edges {
      node {
        id
        name
        price {
          formatted
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
`;
}

/** Options of {@link createSandbox}. */
export interface SandboxOptions {
  /**
   * Headers the page pre-fills so that responses carry debug extensions
   * (the first one is the debug header), shown by its Debug panel; `null`
   * when the gateway has debug extensions off.
   */
  debugHeaders: Readonly<Record<string, string>> | null;
  /** "Sign in as" a seeded user or the admin (development only); undefined: off. */
  signIn?: SandboxSignIn;
}

/** The sandbox: a landing-page plugin for Apollo Server and the routes of its files. */
export interface Sandbox {
  /** Answers a browser GET of the GraphQL path (Accept: text/html) with GraphiQL. */
  readonly plugin: ApolloServerPlugin<BaseContext>;
  /** `/sandbox/<file>` handlers, for the HTTP adapter's `routes`. */
  readonly routes: Readonly<Record<string, RouteHandler>>;
}

/**
 * GraphiQL 3 with the explorer plugin and a Debug panel, every file served by
 * the gateway from installed packages (the UMD bundles need no build step):
 * no CDN, no request to any other host. Throws at once if a package is missing.
 */
export function createSandbox({ debugHeaders, signIn }: SandboxOptions): Sandbox {
  const debugHeader = debugHeaders ? (Object.keys(debugHeaders)[0] ?? null) : null;
  const routes: Record<string, RouteHandler> = createAssetRoutes(SANDBOX_ASSET_PREFIX, [...SCRIPTS, ...STYLES]);
  if (signIn) routes[SIGN_IN_PATH] = createSignInRoute(signIn);
  const html = renderSandboxPage(
    SANDBOX_ASSET_PREFIX,
    { styles: STYLES.map((asset) => asset.name), scripts: SCRIPTS.map((asset) => asset.name) },
    {
      debugHeader,
      debugHeaders,
      defaultQuery: defaultQuery(debugHeader, signIn !== undefined),
      signIn: signIn ? { path: SIGN_IN_PATH.replace(/^\//, ''), adminUser: signIn.adminUser } : null,
    },
  );
  return {
    routes,
    plugin: {
      async serverWillStart() {
        return {
          async renderLandingPage() {
            return { html };
          },
        };
      },
    },
  };
}
