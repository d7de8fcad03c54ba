/** Settings the browser script reads from the page. */
export interface SandboxPageConfig {
  /** The debug request header, or null when this gateway has debug extensions off. */
  debugHeader: string | null;
  /** Headers pre-filled in the headers editor (the debug header and its companions), or null. */
  debugHeaders: Readonly<Record<string, string>> | null;
  /** The editor's content on a first visit. */
  defaultQuery: string;
  /** "Sign in as" (development only): where to get a token and who the admin is; null when off. */
  signIn: { path: string; adminUser: string } | null;
}

/**
 * Everything is same-origin: the policy lets the page load scripts, styles and
 * data only from the gateway (fonts are inlined in GraphiQL's CSS), so the
 * sandbox works offline and cannot leak a query anywhere else.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // GraphiQL and React set style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Response headers of the page: the same policy as a header, where it also
 * forbids framing (`frame-ancestors` is ignored in a meta element), no MIME
 * sniffing, and no referrer sent to anything the page links to.
 */
export const SANDBOX_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': `${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
});

/** JSON safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The HTML Apollo Server answers to a browser GET of the GraphQL path. Asset
 * URLs are relative (`sandbox/…` from `/graphql` is `/sandbox/…`), so the page
 * also works behind a proxy that mounts the gateway under a prefix.
 */
export function renderSandboxPage(
  assetPrefix: string,
  { styles, scripts }: { styles: string[]; scripts: string[] },
  config: SandboxPageConfig,
): string {
  const relative = assetPrefix.replace(/^\//, '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="referrer" content="no-referrer">
<title>GraphQL sandbox</title>
<link rel="icon" href="data:,">
${styles.map((name) => `<link rel="stylesheet" href="${relative}/${name}">`).join('\n')}
</head>
<body>
<div id="sandbox"><noscript>The sandbox needs JavaScript.</noscript></div>
<script id="sandbox-config" type="application/json">${scriptJson(config)}</script>
${scripts.map((name) => `<script src="${relative}/${name}"></script>`).join('\n')}
</body>
</html>
`;
}
