import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { tracingEnabled } from '@commerce/common';
import { scrape, sum } from '../helpers/metrics';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { adminHeaders, asUser } from '../helpers/tokens';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { startRedis, type TestRedis } from '../helpers/redis';

const SUBGRAPHS = ['users', 'orders', 'products'] as const;
const SERVER = 2;
const CLIENT = 3;

/** users → their latest orders → items → product: a fetch to each of the three subgraphs. */
const DEEP_QUERY = /* GraphQL */ `
  query Deep {
    users(first: 3) {
      edges {
        node {
          id
          name
          orders(first: 3) {
            edges {
              node {
                id
                status
                items {
                  quantity
                  product {
                    name
                    price {
                      amount
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
`;

function traceparent(): { header: string; traceId: string; spanId: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

function describeSpan(span: ReceivedSpan): string {
  return `${span.scope}:${span.name}`;
}

describe('tracing on (OTEL_EXPORTER_OTLP_ENDPOINT set): one deep query is one trace from the client through the gateway to SQL', () => {
  let receiver: OtlpReceiver;
  let redis: TestRedis;
  let platform: TestPlatform;
  const client = traceparent();
  let spans: ReceivedSpan[] = [];

  before(async () => {
    receiver = await startOtlpReceiver();
    redis = await startRedis();
    platform = await startTestPlatform({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, REDIS_URL: redis.url });
    assert.equal(tracingEnabled(), true);
    // A signed-in user, so that reads consult the read-your-writes store in Redis.
    const first = await platform.gql('{ users(first: 1) { edges { node { id } } } }', {}, await adminHeaders());
    const userId = first.body.data.users.edges[0].node.id as string;
    const response = await platform.gql(DEEP_QUERY, undefined, {
      traceparent: client.header,
      // The admin scope lists users and reads their orders (README "Authorization").
      ...(await asUser(userId, ['admin'])),
      'x-request-id': 'trace-test-1',
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    assert.ok(response.body.data.users.edges.length > 0);
    // Stopping flushes the batched spans (the subgraphs' stop shuts the exporter down).
    await platform.stop();
    assert.equal(tracingEnabled(), false, 'the last service to stop removes the tracer provider');
    spans = receiver.spans.filter((s) => s.traceId === client.traceId);
  });
  after(async () => {
    await platform?.stop();
    await redis?.stop();
    await receiver?.stop();
  });

  it('exports the spans of the request under the client trace id, every one linked to a parent in that trace', () => {
    assert.ok(spans.length > 0, `no span with the client's trace id among ${receiver.spans.length} received`);
    const ids = new Set(spans.map((s) => s.spanId));
    const orphans = spans.filter((s) => s.parentSpanId !== client.spanId && !ids.has(s.parentSpanId));
    assert.deepEqual(
      orphans.map(describeSpan),
      [],
      'spans whose parent is neither the client span nor a span of the trace',
    );
    const roots = spans.filter((s) => s.parentSpanId === client.spanId);
    assert.deepEqual(
      roots.map(describeSpan),
      ['gateway:POST /graphql'],
      "the gateway's request span is the only child of the client span",
    );
    const [root] = roots;
    assert.equal(root!.kind, SERVER);
    const apollo = spans.filter((s) => s.name === 'gateway.request');
    assert.equal(apollo.length, 1);
    assert.equal(apollo[0]!.parentSpanId, root!.spanId, "Apollo's gateway.request is a child of the request span");
    const kinds = new Map<string, number>();
    for (const span of spans) kinds.set(span.scope, (kinds.get(span.scope) ?? 0) + 1);
    console.log(`trace ${client.traceId}: ${spans.length} spans`, Object.fromEntries(kinds));
  });

  it('names the operation, its type, the client kind, cost, cache status, outcome and HTTP status on the request span', () => {
    const [root] = spans.filter((s) => s.parentSpanId === client.spanId);
    assert.ok(root);
    assert.equal(root.attributes['graphql.operation.name'], 'Deep');
    assert.equal(root.attributes['graphql.operation.type'], 'query');
    assert.equal(root.attributes['commerce.client.kind'], 'user');
    assert.equal(typeof root.attributes['commerce.cost.estimated'], 'number');
    assert.equal(typeof root.attributes['commerce.cost.actual'], 'number');
    assert.ok((root.attributes['commerce.cost.actual'] as number) > 0);
    assert.match(String(root.attributes['commerce.cache']), /^(MISS|BYPASS)$/);
    assert.equal(root.attributes['commerce.outcome'], 'ok');
    assert.equal(root.attributes['http.response.status_code'], 200);
    // Every fetch span descends from the request span.
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    for (const fetch of spans.filter((s) => s.name === 'gateway.fetch')) {
      let at: ReceivedSpan | undefined = fetch;
      while (at && at.spanId !== root.spanId) at = byId.get(at.parentSpanId);
      assert.ok(at, 'a gateway.fetch span is under the request span');
    }
  });

  it("has Apollo's plan and execute spans and one client span per subgraph fetch, attempt 1, outcome ok", () => {
    for (const name of ['gateway.plan', 'gateway.execute', 'gateway.fetch'])
      assert.ok(
        spans.some((s) => s.name === name),
        `${name} span missing`,
      );
    for (const subgraph of SUBGRAPHS) {
      const fetches = spans.filter((s) => s.scope === 'gateway' && s.attributes['commerce.subgraph'] === subgraph);
      assert.ok(fetches.length >= 1, `no fetch span for ${subgraph}`);
      for (const fetch of fetches) {
        assert.equal(fetch.kind, CLIENT);
        assert.equal(fetch.attributes['commerce.attempt'], 1);
        assert.equal(fetch.attributes['commerce.outcome'], 'ok');
        const parent = spans.find((s) => s.spanId === fetch.parentSpanId);
        assert.equal(parent?.name, 'gateway.fetch', "a fetch attempt is a child of Apollo's fetch span");
      }
    }
  });

  it("continues each subgraph fetch in that subgraph's server span, and each server span holds SQL spans naming shard and role", () => {
    const shardsSeen = new Set<number>();
    const rolesSeen = new Set<string>();
    for (const subgraph of SUBGRAPHS) {
      const fetchIds = new Set(
        spans
          .filter((s) => s.scope === 'gateway' && s.attributes['commerce.subgraph'] === subgraph)
          .map((s) => s.spanId),
      );
      const servers = spans.filter((s) => s.scope === subgraph && s.kind === SERVER);
      assert.equal(servers.length, fetchIds.size, `${subgraph}: one server span per fetch`);
      for (const server of servers) {
        assert.ok(
          fetchIds.has(server.parentSpanId),
          `${subgraph}'s server span is a child of a gateway fetch span for it`,
        );
        assert.equal(server.name, 'POST /graphql');
        assert.equal(server.attributes['http.response.status_code'], 200);
        assert.equal(server.attributes['commerce.service'], subgraph);
      }
      const serverIds = new Set(servers.map((s) => s.spanId));
      const sql = spans.filter((s) => s.scope === subgraph && s.attributes['db.system'] === 'postgresql');
      assert.ok(sql.length >= 1, `${subgraph}: no SQL span`);
      for (const statement of sql) {
        assert.ok(
          serverIds.has(statement.parentSpanId),
          `${subgraph}: SQL span ${statement.name} is a child of its server span`,
        );
        assert.equal(statement.kind, CLIENT);
        assert.equal(typeof statement.attributes['commerce.db.shard'], 'number');
        assert.match(String(statement.attributes['commerce.db.role']), /^(primary|replica)$/);
        assert.match(String(statement.attributes['db.statement']), /^\s*SELECT/i);
        assert.equal(
          statement.name,
          `SELECT shard${statement.attributes['commerce.db.shard']} ${statement.attributes['commerce.db.role']}`,
        );
        shardsSeen.add(statement.attributes['commerce.db.shard'] as number);
        rolesSeen.add(statement.attributes['commerce.db.role'] as string);
      }
    }
    assert.deepEqual([...shardsSeen].sort(), [0, 1], 'statements ran on both shards');
    assert.ok(rolesSeen.has('replica'), 'reads went to replicas');
  });

  it('has a Redis span for the read-your-writes lookup under a subgraph server span', () => {
    const lookups = spans.filter((s) => s.attributes['db.system.name'] === 'redis');
    assert.ok(lookups.length >= 1, 'no Redis span');
    for (const lookup of lookups) {
      assert.equal(lookup.name, 'redis GET');
      const parent = spans.find((s) => s.spanId === lookup.parentSpanId);
      assert.equal(parent?.kind, SERVER, 'a Redis span is a child of a subgraph server span');
    }
  });

  it('puts no parameter values in spans (statements carry placeholders only)', () => {
    const sql = spans.filter((s) => s.attributes['db.system'] === 'postgresql');
    assert.ok(
      sql.some((s) => /\$1/.test(String(s.attributes['db.statement']))),
      'parameterized statements keep their placeholders',
    );
    for (const span of spans)
      assert.ok(!JSON.stringify(span.attributes).includes('usr_'), `${describeSpan(span)} carries a user id`);
  });

  it('logs one line per subgraph request with the request id, the trace id, the operation name, status and duration', () => {
    const all = platform.logs.filter((l) => l.msg === 'request' && l.traceId === client.traceId);
    const gateway = all.filter((l) => l.service === 'gateway');
    assert.equal(gateway.length, 1, "the gateway's own line carries the trace id too");
    assert.equal(gateway[0]!.operationName, 'Deep');
    const lines = all.filter((l) => l.service !== 'gateway');
    const services = new Set(lines.map((l) => l.service));
    assert.deepEqual([...services].sort(), [...SUBGRAPHS].sort());
    for (const line of lines) {
      assert.equal(line.requestId, 'trace-test-1');
      assert.equal(line.status, '200');
      assert.equal(line.route, '/graphql');
      assert.equal(typeof line.durationMs, 'number');
      assert.match(String(line.operationName), /^Deep__/);
      assert.equal(line.level, 30);
    }
  });
});

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT): no exporter, nothing sent; latency histograms and pool gauges on /metrics', () => {
  let receiver: OtlpReceiver;
  let platform: TestPlatform;
  const client = traceparent();

  before(async () => {
    receiver = await startOtlpReceiver();
    platform = await startTestPlatform({ OTEL_SERVICE_NAME: 'never-exported' });
  });
  after(async () => {
    await platform?.stop();
    await receiver?.stop();
  });

  it('installs no tracer provider, sends nothing, and logs requests without a trace id', async () => {
    assert.equal(tracingEnabled(), false);
    const response = await platform.gql(DEEP_QUERY, undefined, {
      traceparent: client.header,
      ...(await adminHeaders()),
      'x-request-id': 'untraced-1',
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.errors, undefined);
    const lines = platform.logs.filter(
      (l) => l.msg === 'request' && l.requestId === 'untraced-1' && l.service !== 'gateway',
    );
    assert.equal(lines.length, 3, 'one line per subgraph request');
    for (const line of lines) assert.equal(line.traceId, undefined);
    assert.equal(tracingEnabled(), false);
    assert.equal(receiver.requests, 0);
  });

  it('shows db_statement_duration_seconds by shard and role, http_request_duration_seconds by route, pool gauges per node, and gateway_subgraph_fetch_duration_seconds by subgraph', async () => {
    // Another admin than the previous request's: its private answer is not in the response cache yet.
    await platform.gql(DEEP_QUERY, undefined, await asUser('usr_900000', ['admin']));
    for (const subgraph of SUBGRAPHS) {
      const samples = await scrape(platform.subgraphs[subgraph]!.url);
      const statements = sum(samples, 'db_statements_total', { subgraph });
      assert.ok(statements > 0, `${subgraph} ran statements`);
      // Every statement counted is also timed.
      assert.equal(sum(samples, 'db_statement_duration_seconds_count', { subgraph }), statements);
      const seconds = sum(samples, 'db_statement_duration_seconds_sum', { subgraph });
      assert.ok(seconds > 0 && seconds < statements * 5, `${subgraph}: ${seconds} s over ${statements} statements`);
      assert.ok(
        samples.some(
          (s) =>
            s.name === 'db_statement_duration_seconds_bucket' &&
            s.labels.shard !== undefined &&
            s.labels.role !== undefined,
        ),
      );
      const graphql = sum(samples, 'http_request_duration_seconds_count', {
        route: '/graphql',
        method: 'POST',
        status: '200',
      });
      assert.ok(graphql >= 2, `${subgraph}: ${graphql} GraphQL requests timed`);
      for (const gauge of ['db_pool_connections', 'db_pool_idle_connections', 'db_pool_waiting_queries']) {
        const nodes = samples.filter((s) => s.name === gauge && s.labels.subgraph === subgraph);
        assert.deepEqual(
          nodes.map((s) => `${s.labels.shard}/${s.labels.node}`).sort(),
          ['0/0', '0/primary', '1/0', '1/primary'],
          `${gauge} per node`,
        );
      }
      const open = sum(samples, 'db_pool_connections', { subgraph });
      assert.ok(open >= 1, `${subgraph}: the pools hold open connections`);
      assert.ok(sum(samples, 'db_pool_idle_connections', { subgraph }) <= open);
      assert.equal(sum(samples, 'db_pool_waiting_queries', { subgraph }), 0, 'nothing waits on an idle platform');
    }
    const gateway = await scrape(platform.gateway.url);
    for (const subgraph of SUBGRAPHS) {
      const fetches = sum(gateway, 'gateway_subgraph_fetch_duration_seconds_count', { subgraph, outcome: 'ok' });
      assert.equal(
        fetches,
        sum(gateway, 'gateway_subgraph_requests_total', { subgraph, result: 'ok' }),
        `${subgraph}: every fetch is timed`,
      );
      assert.ok(fetches >= 2);
      const seconds = sum(gateway, 'gateway_subgraph_fetch_duration_seconds_sum', { subgraph, outcome: 'ok' });
      assert.ok(seconds > 0 && seconds < fetches * 10);
    }
  });
});
