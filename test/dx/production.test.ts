import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@commerce/common';
import { loadGatewayConfig } from '@commerce/gateway';
import { post, startTwoSubgraphGateway } from './gateway';

const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

test('in production: no sandbox, no introspection, no debug extensions', async (t) => {
  const gateway = await startTwoSubgraphGateway(t, { NODE_ENV: 'production' });

  const page = await fetch(gateway.url, { headers: browser });
  assert.doesNotMatch(page.headers.get('content-type') ?? '', /text\/html/);
  assert.doesNotMatch(await page.text(), /<html|graphiql/i);
  assert.equal((await fetch(new URL('/sandbox/graphiql.min.js', gateway.url))).status, 404);

  const introspection = await post(gateway.url, '{ __schema { queryType { name } } }');
  assert.equal(introspection.status, 400);
  assert.equal(introspection.body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');

  const debugged = await post(gateway.url, '{ product { name reviews } }', { 'x-debug': 'plan,cost,cache' });
  assert.deepEqual(debugged.body.data, { product: { name: 'Kettle', reviews: ['great'] } });
  assert.equal(debugged.body.extensions?.debug, undefined);
  assert.doesNotMatch(JSON.stringify(debugged.body), /QueryPlan|Fetch\(service/);
});

test('outside production the sandbox page is served; in production only when GATEWAY_SANDBOX=true, and without the debug panel data', async (t) => {
  const development = await startTwoSubgraphGateway(t, { NODE_ENV: 'development' });
  const devPage = await fetch(development.url, { headers: browser });
  assert.match(devPage.headers.get('content-type') ?? '', /text\/html/);
  const devHtml = await devPage.text();
  assert.match(devHtml, /<script src="sandbox\/graphiql\.min\.js"><\/script>/);
  assert.match(devHtml, /"debugHeader":"x-debug"/);
  assert.doesNotMatch(devHtml, /https?:\/\/(?!127\.0\.0\.1)/, 'no absolute URL to another host');

  const optedIn = await startTwoSubgraphGateway(t, {
    NODE_ENV: 'production',
    GATEWAY_SANDBOX: 'true',
    GATEWAY_INTROSPECTION: 'true',
  });
  const prodHtml = await (await fetch(optedIn.url, { headers: browser })).text();
  assert.match(prodHtml, /"debugHeader":null/);
  assert.equal((await fetch(new URL('/sandbox/sandbox.js', optedIn.url))).status, 200);
  const debugged = await post(optedIn.url, '{ hello }', { 'x-debug': 'plan' });
  assert.equal(debugged.body.extensions?.debug, undefined);
});

test('refuses GATEWAY_DEBUG_EXTENSIONS=true in production, naming the variable', () => {
  assert.throws(
    () => loadGatewayConfig({ NODE_ENV: 'production', GATEWAY_DEBUG_EXTENSIONS: 'true' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /GATEWAY_DEBUG_EXTENSIONS cannot be true when NODE_ENV=production/);
      return true;
    },
  );
  const development = loadGatewayConfig({});
  assert.equal(development.sandbox, true);
  assert.equal(development.debugExtensions, true);
  const production = loadGatewayConfig({ NODE_ENV: 'production' });
  assert.equal(production.sandbox, false);
  assert.equal(production.debugExtensions, false);
  assert.equal(loadGatewayConfig({ GATEWAY_SANDBOX: 'off', GATEWAY_DEBUG_EXTENSIONS: 'off' }).sandbox, false);
});
