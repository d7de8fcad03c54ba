import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '@commerce/common';
import { loadGatewayConfig } from '@commerce/gateway';

test('applies the documented defaults and freezes the result', () => {
  const config = loadGatewayConfig({});
  const expected = {
    port: 4000,
    host: '127.0.0.1',
    workers: 1,
    supergraph: { kind: 'file', path: resolve('schema/supergraph.graphql') },
    subgraphUrls: {},
    subgraphTimeoutMs: 10_000,
    subgraphMaxConnections: 256,
    production: false,
    introspection: true,
    bodyLimitBytes: 1024 * 1024,
    redisUrl: undefined,
    redisKeyPrefix: 'commerce:',
    executor: 'compiled',
    admission: { minConcurrency: 8, maxQueue: 1024 },
  };
  const picked = Object.fromEntries(Object.keys(expected).map((key) => [key, config[key as keyof typeof config]]));
  assert.deepEqual(picked, expected);
  const { responseCache, persisted } = config;
  assert.deepEqual(responseCache, {
    enabled: true,
    maxTtlSeconds: 300,
    maxEntryBytes: 512 * 1024,
    memoryBytes: 64 * 1024 * 1024,
    hotPathBytes: 64 * 1024 * 1024,
    purgeSecret: undefined,
    invalidationGraceMs: 5000,
  });
  assert.deepEqual(persisted, {
    apq: true,
    apqTtlSeconds: 86_400,
    mode: 'off',
    manifestPath: resolve('schema/persisted-queries.json'),
  });
  for (const part of [config, config.supergraph, config.subgraphUrls, config.responseCache, config.persisted])
    assert.ok(Object.isFrozen(part));
});

test('refuses bad cache and persisted-query settings, naming them', () => {
  assert.throws(
    () => loadGatewayConfig({ REDIS_URL: 'http://localhost:6379' }),
    /REDIS_URL must start with redis:\/\//,
  );
  assert.throws(
    () => loadGatewayConfig({ TRUSTED_DOCUMENTS: 'strict' }),
    /TRUSTED_DOCUMENTS must be off, allow or enforce, got "strict"/,
  );
  assert.throws(
    () => loadGatewayConfig({ CACHE_PURGE_SECRET: 'short' }),
    /CACHE_PURGE_SECRET must be at least 16 characters/,
  );
  assert.throws(() => loadGatewayConfig({ GATEWAY_WORKERS: '0' }), /GATEWAY_WORKERS must be >= 1, got 0/);
  assert.throws(
    () => loadGatewayConfig({ RESPONSE_CACHE: 'maybe' }),
    /RESPONSE_CACHE must be true or false, got "maybe"/,
  );
});

test('turns introspection off in production unless GATEWAY_INTROSPECTION=true', () => {
  assert.equal(loadGatewayConfig({ NODE_ENV: 'production' }).introspection, false);
  assert.equal(loadGatewayConfig({ NODE_ENV: 'production', GATEWAY_INTROSPECTION: 'true' }).introspection, true);
  assert.equal(loadGatewayConfig({ NODE_ENV: 'production' }).production, true);
});

test('parses SUBGRAPH_URLS overrides and a supergraph URL', () => {
  const config = loadGatewayConfig({
    SUBGRAPH_URLS: ' users=http://127.0.0.1:4001/graphql, orders=https://orders.internal/graphql ,',
    SUPERGRAPH_PATH: 'https://registry.internal/supergraph.graphql',
    SUPERGRAPH_POLL_INTERVAL_MS: '5000',
  });
  assert.deepEqual(config.subgraphUrls, {
    users: 'http://127.0.0.1:4001/graphql',
    orders: 'https://orders.internal/graphql',
  });
  assert.deepEqual(config.supergraph, {
    kind: 'url',
    url: 'https://registry.internal/supergraph.graphql',
    pollIntervalMs: 5000,
  });
});

const invalid: [Record<string, string>, RegExp][] = [
  [{ PORT: 'abc' }, /PORT.*"abc"/],
  [{ PORT: '70000' }, /PORT.*70000/],
  [{ SUBGRAPH_TIMEOUT_MS: '0' }, /SUBGRAPH_TIMEOUT_MS.*0/],
  [{ SUBGRAPH_MAX_CONNECTIONS: '1.5' }, /SUBGRAPH_MAX_CONNECTIONS.*"1\.5"/],
  [{ GATEWAY_EXECUTOR: 'fast' }, /GATEWAY_EXECUTOR must be one of compiled, apollo, verify, got "fast"/],
  [{ GATEWAY_ADMISSION_MIN_CONCURRENCY: '0' }, /GATEWAY_ADMISSION_MIN_CONCURRENCY/],
  [{ GATEWAY_ADMISSION_MAX_QUEUE: '-1' }, /GATEWAY_ADMISSION_MAX_QUEUE/],
  [{ BODY_LIMIT_BYTES: '-1' }, /BODY_LIMIT_BYTES.*-1/],
  [{ GATEWAY_INTROSPECTION: 'maybe' }, /GATEWAY_INTROSPECTION.*"maybe"/],
  [{ HOST: 'local host' }, /HOST.*"local host"/],
  [{ SUBGRAPH_URLS: 'users' }, /SUBGRAPH_URLS.*"users"/],
  [{ SUBGRAPH_URLS: 'users=not a url' }, /SUBGRAPH_URLS.*"not a url"/],
  [{ SUBGRAPH_URLS: 'users=ftp://files/graphql' }, /SUBGRAPH_URLS.*"ftp:\/\/files\/graphql"/],
  [{ SUBGRAPH_URLS: 'users=http://a/graphql,users=http://b/graphql' }, /SUBGRAPH_URLS.*"users" twice/],
  [{ SUBGRAPH_URLS: 'users=http://admin:s3cret@a/graphql,bad' }, /SUBGRAPH_URLS.*"bad"/],
];

for (const [env, message] of invalid) {
  test(`refuses ${JSON.stringify(env)} with a ConfigError naming the variable and value`, () => {
    assert.throws(
      () => loadGatewayConfig(env),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, message);
        return true;
      },
    );
  });
}

test('never puts a URL password in a config error', () => {
  assert.throws(
    () => loadGatewayConfig({ SUBGRAPH_URLS: 'users=ftp://admin:s3cret@a/graphql' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    },
  );
});
