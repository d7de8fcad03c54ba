import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startGatewayProcess } from '../helpers/gateway-process';
import { startRedis } from '../helpers/redis';
import { SHOP, post, startCostSubgraphs } from './helpers';
import { asUser } from '../helpers/tokens';

describe('a cost budget shared through Redis', () => {
  it('is one budget for a client across two gateway processes', async (t) => {
    const redis = await startRedis();
    t.after(() => redis.stop());
    const { supergraphPath, subgraphs } = await startCostSubgraphs(t, [SHOP]);
    // 50 points, refilled at one point per 1000 s: the test sees no refill.
    const env = {
      SUPERGRAPH_PATH: supergraphPath,
      REDIS_URL: redis.url,
      COST_MODE: 'enforce',
      COST_MAX: '50',
      COST_BUDGET_CAPACITY: '50',
      COST_BUDGET_REFILL_PER_SECOND: '0.001',
    };
    const gateways = await Promise.all(
      [0, 1].map(async () => {
        const gateway = await startGatewayProcess(
          { subgraphs: { shop: subgraphs[0]! } },
          { NODE_ENV: 'test', FIELD_RATE_LIMITS: 'none', ...env },
        );
        t.after(() => gateway.stop());
        return gateway.url;
      }),
    );

    const statuses: number[][] = [[], []];
    for (let i = 0; i < 24; i++) {
      const which = i % 2;
      const { status } = await post(gateways[which]!, '{ items(first: 5) { id } }', {
        headers: await asUser('usr_shared'),
      });
      statuses[which]!.push(status);
    }
    const allowed = statuses.map((list) => list.filter((s) => s === 200).length);
    assert.equal(allowed[0]! + allowed[1]!, 10, `50 points at 5 each, across both: ${JSON.stringify(statuses)}`);
    assert.ok(allowed[0]! > 0 && allowed[1]! > 0, 'both gateways served some');
    assert.ok(statuses.flat().every((s) => s === 200 || s === 429));

    const other = await post(gateways[1]!, '{ items(first: 5) { id } }', { headers: await asUser('usr_other') });
    assert.equal(other.status, 200, 'another client is unaffected');
  });
});
