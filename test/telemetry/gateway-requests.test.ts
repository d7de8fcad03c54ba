import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { scrape, sum } from '../helpers/metrics';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { waitFor } from '../helpers/wait';

const CATALOGUE = 'query Catalogue { products(first: 3) { edges { node { id name } } } }';
/** 100 products × their fields: over the COST_MAX this file sets. */
const EXPENSIVE = 'query Expensive { products(first: 100) { edges { node { id name price { amount } } } } }';

type Line = Record<string, unknown>;

describe("the gateway's request telemetry: gateway_request_duration_seconds{operation,outcome} and one log line per request", () => {
  let platform: TestPlatform;

  before(async () => {
    // TRUSTED_DOCUMENTS=allow: the manifest is loaded, and its operation names always get a label of their own.
    platform = await startTestPlatform({ COST_MAX: '150', TRUSTED_DOCUMENTS: 'allow' });
  });
  after(async () => {
    await platform?.stop();
  });

  /** Sends a request with its own request id and returns the gateway's log line for it. */
  async function send(
    query: string,
    requestId: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; cache: string | null; vary: string | null; line: Line }> {
    const response = await platform.gql(query, undefined, { 'x-request-id': requestId, ...headers });
    const line = await waitFor(`the gateway's log line of ${requestId}`, () =>
      platform.logs.find((l) => l.service === 'gateway' && l.msg === 'request' && l.requestId === requestId),
    );
    return {
      status: response.status,
      cache: response.headers.get('x-cache'),
      vary: response.headers.get('vary'),
      line,
    };
  }

  const histogram = async (operation: string, outcome: string) =>
    sum(await scrape(platform.gateway.url), 'gateway_request_duration_seconds_count', { operation, outcome });

  it('logs and times a miss, then the same request answered from the cache, as a cache_hit with the same operation and cost', async () => {
    const misses = await histogram('Catalogue', 'ok');
    const hits = await histogram('Catalogue', 'cache_hit');
    const miss = await send(CATALOGUE, 'tel-miss');
    assert.equal(miss.status, 200);
    assert.equal(miss.cache, 'MISS');
    const hit = await send(CATALOGUE, 'tel-hit');
    assert.equal(hit.cache, 'HIT');
    assert.equal(await histogram('Catalogue', 'ok'), misses + 1);
    assert.equal(await histogram('Catalogue', 'cache_hit'), hits + 1);

    for (const [{ line }, outcome, cache] of [
      [miss, 'ok', 'MISS'],
      [hit, 'cache_hit', 'HIT'],
    ] as const) {
      assert.equal(line.level, 30, 'at info');
      assert.equal(line.operationName, 'Catalogue');
      assert.equal(line.operationType, 'query');
      assert.equal(line.outcome, outcome);
      assert.equal(line.cache, cache);
      assert.equal(line.status, 200);
      assert.equal(typeof line.durationMs, 'number');
      const cost = line.cost as { estimated: number; actual: number };
      assert.ok(cost.estimated > 0 && cost.actual > 0, JSON.stringify(cost));
      // An anonymous client is known by its address; no header value is ever written.
      assert.equal(line.client, 'ip:127.0.0.1');
      assert.deepEqual(
        Object.keys(line).filter((key) => /header|authorization|token|variables|query/i.test(key)),
        [],
      );
    }
    assert.deepEqual(hit.line.cost, miss.line.cost, 'a hit reports the costs its entry carries');
    // A public answer, stored or served from memory, varies on Accept only.
    assert.equal(miss.vary, 'Accept');
    assert.equal(hit.vary, 'Accept');
  });

  it('logs and times a refused request (cost over COST_MAX) as refused with its status', async () => {
    const before = await histogram('Expensive', 'refused');
    const refused = await send(EXPENSIVE, 'tel-refused');
    assert.equal(refused.status, 400);
    assert.equal(refused.line.outcome, 'refused');
    assert.equal(refused.line.status, 400);
    assert.equal(refused.line.operationName, 'Expensive');
    assert.equal(refused.vary, 'Accept, Authorization, Cookie', 'a refusal is private');
    assert.match(String(refused.line.client), /^ip:127\.0\.0\.1$/);
    assert.equal(await histogram('Expensive', 'refused'), before + 1);
  });

  it('logs a request refused for a bad token (401) with its request id and address, never the token', async () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMSJ9.not-a-valid-signature-at-all';
    const refused = await send(CATALOGUE, 'tel-bad-token', { authorization: `Bearer ${token}` });
    assert.equal(refused.status, 401);
    assert.equal(refused.line.outcome, 'refused');
    assert.equal(refused.line.status, 401);
    assert.equal(refused.line.client, 'ip:127.0.0.1');
    const text = JSON.stringify(refused.line);
    for (const part of token.split('.')) assert.ok(!text.includes(part), 'no part of the token is logged');
  });

  it('labels a request without an operation name anonymous, and caps the distinct names that get a label of their own', async () => {
    const anonymous = await histogram('anonymous', 'ok');
    await send('{ products(first: 1) { edges { node { id } } } }', 'tel-anonymous');
    assert.equal(await histogram('anonymous', 'ok'), anonymous + 1);
    // 100 names get their own label; more distinct names are counted as `other`.
    for (let i = 0; i < 101; i += 1)
      await platform.gql(`query Name${i} { products(first: 1) { edges { node { id } } } }`);
    const samples = await scrape(platform.gateway.url);
    const operations = new Set(
      samples.filter((s) => s.name === 'gateway_request_duration_seconds_count').map((s) => s.labels.operation),
    );
    assert.ok(operations.size <= 100 + 2, `${operations.size} operation labels`);
    assert.ok(operations.has('other'));
    assert.ok(sum(samples, 'gateway_request_duration_seconds_count', { operation: 'other' }) >= 1);
    // A name of the trusted-document manifest is labelled as itself even once the cap is reached.
    const manifest = JSON.parse(readFileSync('schema/persisted-queries.json', 'utf8')) as {
      operations: { name: string; type: string; body: string }[];
    };
    const viewer = manifest.operations.find((o) => o.name === 'Viewer')!;
    await send(viewer.body, 'tel-manifest');
    assert.equal(
      (await histogram('Viewer', 'ok')) + (await histogram('Viewer', 'error')) + (await histogram('Viewer', 'refused')),
      1,
    );
  });
});
