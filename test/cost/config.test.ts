import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@commerce/common';
import { loadGatewayConfig } from '@commerce/gateway';

const load = (env: Record<string, string>) => loadGatewayConfig({ NODE_ENV: 'test', ...env });

describe('cost and limit configuration', () => {
  it('enforces cost limits by default, with defaults that let the deep query of the README through', () => {
    const config = load({});
    assert.equal(config.cost.mode, 'enforce');
    assert.equal(config.cost.leasePercent, 1);
    assert.equal(config.cost.leaseMs, 1000);
    assert.equal(config.cost.maxCost, 25_000);
    assert.deepEqual(config.cost.budget, { capacity: 100_000, refillPerSecond: 2_000 });
    assert.equal(config.cost.defaultListSize, 10);
    assert.deepEqual(config.operationLimits, {
      maxDepth: 15,
      maxAliases: 30,
      maxRootFields: 20,
      maxDirectives: 50,
      maxSelections: 5000,
      maxTokens: 2000,
    });
    assert.deepEqual(
      config.fieldRateLimits.map((l) => [l.typeName, l.fieldName, l.max, l.windowMs, l.identity]),
      [
        ['Mutation', 'placeOrder', 30, 60_000, 'principal'],
        ['Mutation', 'createUser', 10, 60_000, 'ip'],
      ],
    );
    assert.equal(config.fieldSuggestions, true);
    assert.equal(load({ NODE_ENV: 'production' }).fieldSuggestions, false);
  });

  it('parses budget overrides (apikey: names a key of API_KEYS)', () => {
    const raw = 'apikey:partner-a=500000/10000, user:usr_42=200000/0.5, ip:10.0.0.1=1000/1';
    // A bucket below COST_MAX is refused only when enforcing (its client could never run a maximal operation).
    assert.throws(() => load({ COST_BUDGET_OVERRIDES: raw }), /ip:10\.0\.0\.1\) capacity 1000 is below COST_MAX/);
    const { overrides } = load({ COST_MODE: 'measure', COST_BUDGET_OVERRIDES: raw }).cost;
    assert.deepEqual(overrides.get('apikey:partner-a'), {
      capacity: 500_000,
      refillPerSecond: 10_000,
    });
    assert.deepEqual(overrides.get('user:usr_42'), { capacity: 200_000, refillPerSecond: 0.5 });
    assert.deepEqual(overrides.get('ip:10.0.0.1'), { capacity: 1000, refillPerSecond: 1 });
  });

  it('parses field limits, or none', () => {
    const [limit] = load({ FIELD_RATE_LIMITS: 'Mutation.placeOrder=5/30s@ip' }).fieldRateLimits;
    assert.deepEqual(limit, {
      typeName: 'Mutation',
      fieldName: 'placeOrder',
      max: 5,
      window: '30s',
      windowMs: 30_000,
      identity: 'ip',
    });
    assert.deepEqual(load({ FIELD_RATE_LIMITS: 'none' }).fieldRateLimits, []);
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ COST_MODE: 'strict' }, /COST_MODE must be one of off, measure, enforce, got "strict"/],
    [{ COST_MAX: 'lots' }, /COST_MAX must be an integer, got "lots"/],
    [{ COST_BUDGET_REFILL_PER_SECOND: '-1' }, /COST_BUDGET_REFILL_PER_SECOND must be a number > 0, got "-1"/],
    [
      { COST_MODE: 'enforce', COST_MAX: '500', COST_BUDGET_CAPACITY: '100' },
      /COST_BUDGET_CAPACITY capacity 100 is below COST_MAX 500/,
    ],
    [
      {
        COST_MODE: 'enforce',
        COST_MAX: '500',
        COST_BUDGET_CAPACITY: '1000',
        COST_BUDGET_OVERRIDES: 'apikey:partner=100/1',
      },
      /COST_BUDGET_OVERRIDES \(apikey:partner\) capacity 100/,
    ],
    [{ COST_BUDGET_OVERRIDES: 'apikey:partner' }, /got "apikey:partner"/],
    [{ COST_BUDGET_OVERRIDES: 'user:a=1/1,user:a=2/2' }, /names "user:a=2\/2" twice/],
    [{ COST_BUDGET_LEASE_PERCENT: '60' }, /COST_BUDGET_LEASE_PERCENT must be at most 50, got "60"/],
    [{ COST_BUDGET_LEASE_PERCENT: '0' }, /COST_BUDGET_LEASE_PERCENT must be a number > 0, got "0"/],
    [{ COST_BUDGET_LEASE_MS: '5' }, /COST_BUDGET_LEASE_MS must be >= 10/],
    [
      { FIELD_RATE_LIMITS: 'placeOrder=5/1m' },
      /FIELD_RATE_LIMITS entries must look like Mutation.placeOrder=30\/1m@principal/,
    ],
    [{ FIELD_RATE_LIMITS: 'Mutation.placeOrder=0/1m@ip' }, /needs a max and a window above 0/],
    [{ MAX_QUERY_DEPTH: '-1' }, /MAX_QUERY_DEPTH must be >= 0, got -1/],
    [{ GATEWAY_FIELD_SUGGESTIONS: 'maybe' }, /GATEWAY_FIELD_SUGGESTIONS must be true or false/],
  ];
  for (const [env, message] of bad) {
    it(`refuses ${JSON.stringify(env)}`, () => {
      assert.throws(
        () => load(env),
        (error: unknown) =>
          error instanceof ConfigError && message.test(error.message) && !error.message.includes('hidden'),
      );
    });
  }
});
