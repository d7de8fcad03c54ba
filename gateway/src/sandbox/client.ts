/**
 * The browser side of the sandbox, served as `/sandbox/sandbox.js` after the
 * React, GraphiQL and explorer UMD bundles (globals `React`, `ReactDOM`,
 * `GraphiQL`, `GraphiQLPluginExplorer`). Kept as plain ES2020 text: it runs
 * in the browser as is, with no build step. It reads its settings from the
 * page's `<script id="sandbox-config" type="application/json">` and adds a
 * "Debug" panel showing the extensions of the last response (query plan,
 * cost, cache status) and, in development, a "Sign in" panel that sends the
 * requests as a seeded user or the admin (an Authorization header).
 */
export const SANDBOX_SCRIPT = String.raw`(() => {
  'use strict';
  const h = React.createElement;
  const config = JSON.parse(document.getElementById('sandbox-config').textContent);
  const endpoint = new URL(window.location.pathname, window.location.origin).href;

  // The extensions of the last response (undefined until one arrives).
  let lastExtensions;
  const listeners = new Set();
  const subscribe = (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  const publish = (extensions) => {
    lastExtensions = extensions;
    listeners.forEach((listener) => listener());
  };

  // The gateway answers plain JSON (no incremental delivery), so each result is one object.
  const baseFetcher = GraphiQL.createFetcher({ url: endpoint, enableIncrementalDelivery: false });
  const isResult = (value) => value !== null && typeof value === 'object' && ('data' in value || 'errors' in value);
  const tap = (value) => {
    if (value && typeof value[Symbol.asyncIterator] === 'function') {
      return (async function* () {
        for await (const part of value) {
          if (isResult(part)) publish(part.extensions || null);
          yield part;
        }
      })();
    }
    if (isResult(value)) publish(value.extensions || null);
    return value;
  };
  // "Sign in as" (development only): the Authorization header every request gets unless the Headers editor sets one.
  let authorization = null;
  const fetcher = (params, options) => {
    const headers = Object.assign({}, options && options.headers);
    if (authorization && !Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) headers.authorization = authorization;
    // GraphiQL can keep the tab's last operation name for a moment after the document changed (e.g. the named
    // example replaced by an anonymous query): send a name only while the document still defines it.
    const name = params.operationName;
    if (name && !new RegExp('\\b(?:query|mutation|subscription)\\s+' + name + '\\b').test(params.query || '')) {
      params = Object.assign({}, params, { operationName: null });
    }
    const result = baseFetcher(params, Object.assign({}, options, { headers }));
    return params.operationName === 'IntrospectionQuery' ? result : Promise.resolve(result).then(tap);
  };

  const pretty = (value) => (value === undefined ? 'not requested' : JSON.stringify(value, null, 2));

  function section(title, body, testId) {
    return h('section', { key: title, className: 'sandbox-debug-section' },
      h('h3', null, title),
      h('pre', { 'data-testid': testId }, body));
  }

  function DebugPanel() {
    const extensions = React.useSyncExternalStore(subscribe, () => lastExtensions);
    const body = [];
    if (!config.debugHeader) {
      body.push(h('p', { key: 'off' }, 'Debug extensions are off on this gateway (GATEWAY_DEBUG_EXTENSIONS=false or production).'));
    } else if (extensions === undefined) {
      body.push(h('p', { key: 'hint' }, 'Run an operation: with the ' + config.debugHeader + ' header (see Headers below the editor) its query plan, cost and cache status show here.'));
    } else {
      const debug = (extensions && extensions.debug) || {};
      if (!extensions || !extensions.debug) {
        body.push(h('p', { key: 'none' }, 'The last response carried no debug extensions: add the header ' + config.debugHeader + ': plan,cost,cache.'));
      }
      body.push(section('Query plan', debug.queryPlan === undefined ? 'not requested' : debug.queryPlan || 'no plan (answered from the cache, or the request failed before planning)', 'debug-query-plan'));
      body.push(section('Cost (estimated / actual)', pretty(debug.cost), 'debug-cost'));
      body.push(section('Cache', pretty(debug.cache), 'debug-cache'));
      body.push(section('All response extensions', pretty(extensions), 'debug-extensions'));
    }
    return h('div', { className: 'sandbox-debug' }, h('div', { className: 'graphiql-doc-explorer-title' }, 'Debug'), body);
  }

  function DebugIcon() {
    return h('svg', { viewBox: '0 0 24 24', width: '1em', height: '1em', fill: 'none', stroke: 'currentColor', strokeWidth: 1.5, 'aria-hidden': 'true' },
      h('path', { d: 'M4 5h16M7 12h13M10 19h10M4 12h0.01M4 19h3' }));
  }

  const tokenFor = (user, scopes) => {
    const query = new URLSearchParams({ user });
    (scopes || []).forEach((scope) => query.append('scope', scope));
    return fetch(new URL(config.signIn.path + '?' + query, endpoint).href)
      .then((r) => r.json())
      .then((body) => 'Bearer ' + body.token);
  };
  const ADMIN_SCOPES = ['admin', 'products:write'];

  function SignInPanel() {
    const [users, setUsers] = React.useState([]);
    const [current, setCurrent] = React.useState('anonymous');
    const [error, setError] = React.useState(null);
    React.useEffect(() => {
      // The admin lists the first seeded users to choose from.
      tokenFor(config.signIn.adminUser, ADMIN_SCOPES)
        .then((admin) => fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: admin },
          body: JSON.stringify({ query: '{ users(first: 10) { edges { node { id name } } } }' }),
        }))
        .then((r) => r.json())
        .then((body) => setUsers(((body.data && body.data.users && body.data.users.edges) || []).map((e) => e.node)))
        .catch((e) => setError(String(e)));
    }, []);
    const choose = (choice) => {
      setCurrent(choice);
      if (choice === 'anonymous') return void (authorization = null);
      const admin = choice === 'admin';
      tokenFor(admin ? config.signIn.adminUser : choice, admin ? ADMIN_SCOPES : [])
        .then((value) => (authorization = value))
        .catch((e) => setError(String(e)));
    };
    const option = (value, label) => h('label', { key: value, className: 'sandbox-sign-in-option' },
      h('input', { type: 'radio', name: 'sandbox-sign-in', value, checked: current === value, onChange: () => choose(value) }),
      ' ' + label);
    return h('div', { className: 'sandbox-debug', 'data-testid': 'sign-in' },
      h('div', { className: 'graphiql-doc-explorer-title' }, 'Sign in'),
      h('p', null, 'Development only: every request is sent with a token for the chosen caller (npm run token prints the same).'),
      option('anonymous', 'Anonymous'),
      option('admin', 'Admin (' + config.signIn.adminUser + ', scopes ' + ADMIN_SCOPES.join(' ') + ')'),
      users.map((u) => option(u.id, u.name + ' (' + u.id + ')')),
      error ? h('p', null, error) : null);
  }

  function SignInIcon() {
    return h('svg', { viewBox: '0 0 24 24', width: '1em', height: '1em', fill: 'none', stroke: 'currentColor', strokeWidth: 1.5, 'aria-hidden': 'true' },
      h('path', { d: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 20a8 8 0 0 1 16 0' }));
  }

  const plugins = [
    GraphiQLPluginExplorer.explorerPlugin(),
    { title: 'Debug', icon: DebugIcon, content: DebugPanel },
    ...(config.signIn ? [{ title: 'Sign in', icon: SignInIcon, content: SignInPanel }] : []),
  ];
  const headers = config.debugHeaders ? JSON.stringify(config.debugHeaders, null, 2) : undefined;

  ReactDOM.createRoot(document.getElementById('sandbox')).render(
    h(GraphiQL, {
      fetcher,
      plugins,
      headers,
      defaultQuery: config.defaultQuery,
      defaultEditorToolsVisibility: headers ? 'headers' : undefined,
      shouldPersistHeaders: false,
    }),
  );
})();
`;

/** Layout of the Debug panel; GraphiQL's own variables keep it in its theme. */
export const SANDBOX_STYLE = `.sandbox-debug { display: flex; flex-direction: column; gap: var(--px-8, 8px); }
.sandbox-debug h3 { font-size: var(--font-size-h4, 1rem); margin: var(--px-12, 12px) 0 var(--px-4, 4px); }
.sandbox-debug pre {
  margin: 0; padding: var(--px-8, 8px); overflow: auto; max-height: 40vh;
  font-family: var(--font-family-mono, monospace); font-size: var(--font-size-hint, 0.8rem);
  background: hsla(var(--color-neutral, 219, 28%, 32%), var(--alpha-background-light, 0.07));
  border-radius: var(--border-radius-4, 4px); white-space: pre;
}
html, body, #sandbox { height: 100%; margin: 0; }
`;
