import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { adminHeaders } from '../helpers/tokens';

/** Debian's Chromium (`.ci/run` installs it); a browser is never downloaded. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));
const TIMEOUT_MS = 30_000;

const QUERY =
  '{ users(first: 2) { edges { node { name orders(first: 1) { edges { node { total { formatted } } } } } } } }';

let platform: TestPlatform;
let context: BrowserContext;
let profileDir: string;

before(async () => {
  platform = await startTestPlatform();
  profileDir = await mkdtemp(join(tmpdir(), 'sandbox-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  });
});

after(async () => {
  await context?.close();
  await platform?.stop();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

/** Every request the page makes, and every page error or CSP complaint it logs. */
function watch(page: Page): { requests: string[]; problems: string[] } {
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy/i.test(message.text()))
      problems.push(`console ${message.type()}: ${message.text()}`);
  });
  return { requests, problems };
}

/** Text of the first element matching `selector` once `predicate` holds for it. */
async function waitForText(
  page: Page,
  selector: string,
  predicate: (text: string) => boolean,
  what: string,
): Promise<string> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const text =
      (await page
        .locator(selector)
        .first()
        .textContent()
        .catch(() => null)) ?? '';
    if (predicate(text)) return text;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last text: ${JSON.stringify(text.slice(0, 500))}`);
    await page.waitForTimeout(100);
  }
}

test('the sandbox runs a typed query in real Chromium, shows its query plan, and loads nothing from another host', async () => {
  // Listing users needs the admin scope: the sandbox's "Sign in" panel gets the page the same token.
  const expected = await platform.gql(QUERY, undefined, await adminHeaders());
  const names: string[] = expected.body.data.users.edges.map((edge: { node: { name: string } }) => edge.node.name);
  assert.equal(names.length, 2);

  const gateway = new URL(platform.gateway.url);
  const page = await context.newPage();
  const { requests, problems } = watch(page);
  // Offline for real: anything not addressed to the gateway fails.
  await context.route('**/*', (route) =>
    new URL(route.request().url()).origin === gateway.origin ? route.continue() : route.abort('internetdisconnected'),
  );

  const response = await page.goto(gateway.href);
  assert.equal(response?.status(), 200);
  assert.match(response?.headers()['content-type'] ?? '', /text\/html/);
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor({ timeout: TIMEOUT_MS });

  // Schema docs work (introspection through the headers GraphiQL sends).
  await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
  await waitForText(page, '.graphiql-doc-explorer', (text) => text.includes('Query'), 'the documentation explorer');
  // The explorer plugin lists the root fields.
  await page.getByRole('button', { name: 'Show GraphiQL Explorer' }).click();
  await waitForText(
    page,
    '.graphiql-plugin',
    (text) => text.includes('products') && text.includes('users'),
    'the explorer plugin',
  );

  // The page opens on the storefront query; sign in as the admin (development only), then run the typed query.
  assert.match(await page.locator('.graphiql-query-editor').innerText(), /query Storefront/);
  await page.getByRole('button', { name: 'Show Sign in' }).click();
  await waitForText(page, '[data-testid="sign-in"]', (text) => /usr_\w+/.test(text), 'the sign-in panel lists users');
  const signedIn = page.waitForResponse((r) => r.url().includes('/sandbox/sign-in') && r.status() === 200);
  await page.getByLabel(/^ Admin|^Admin/).check();
  await signedIn;

  // Type the query (replacing the default one) and run it.
  await page.locator('.graphiql-query-editor .CodeMirror').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(QUERY);
  await page.getByRole('button', { name: /Execute query/ }).click();
  const result = await waitForText(
    page,
    '.graphiql-response',
    (text) => names.every((name) => text.includes(name)),
    'the result in the response pane',
  );
  assert.match(result, /"formatted"/);

  // The Debug panel shows the plan the gateway sent back for the x-debug header.
  await page.getByRole('button', { name: 'Show Debug' }).click();
  const plan = await waitForText(
    page,
    '[data-testid="debug-query-plan"]',
    (text) => text.includes('QueryPlan'),
    'the query plan in the Debug panel',
  );
  assert.match(plan, /Fetch\(service: "users"\)/);
  assert.match(plan, /Fetch\(service: "orders"\)/);
  await waitForText(
    page,
    '[data-testid="debug-cache"]',
    (text) => text.includes('"status"'),
    'the cache status in the Debug panel',
  );
  await waitForText(
    page,
    '[data-testid="debug-cost"]',
    (text) => /"estimated": \d+/.test(text),
    'the estimated cost in the Debug panel',
  );
  // Pretty query for the screenshot.
  await page.getByRole('button', { name: /Prettify query/ }).click();

  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'sandbox.png') });

  assert.ok(
    requests.some((url) => url.endsWith('/sandbox/graphiql.min.js')),
    'GraphiQL came from the gateway',
  );
  const elsewhere = requests.filter((url) => /^(https?|wss?):/.test(url) && new URL(url).origin !== gateway.origin);
  assert.deepEqual(elsewhere, [], 'no request left for another host');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the sandbox files are served with ETags, gzip and 304s', async () => {
  const url = new URL('/sandbox/graphiql.min.js', platform.gateway.url);
  const first = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(first.status, 200);
  assert.match(first.headers.get('content-type') ?? '', /javascript/);
  assert.equal(first.headers.get('content-encoding'), 'gzip');
  await first.arrayBuffer();
  const etag = first.headers.get('etag');
  assert.ok(etag);
  const again = await fetch(url, { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  assert.equal((await fetch(url, { method: 'POST' })).status, 405);
  // A GraphQL client asking for JSON still gets GraphQL at the same path.
  const api = await fetch(`${platform.gateway.url}?query=${encodeURIComponent('{ __typename }')}`, {
    headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
  });
  assert.deepEqual(await api.json(), { data: { __typename: 'Query' } });
});
