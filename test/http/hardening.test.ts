import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningGateway } from '@commerce/gateway';
import { compose, replaceFile, startSubgraph, startTestGateway, tempDir } from '../gateway/helpers';
import { freePort } from '../helpers/ports';

const SDL = 'type Query { hello: String }';
const SHOP = 'https://shop.example.com';
const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
const QUERY = JSON.stringify({ query: '{ hello }' });

let gateway: RunningGateway;
let metricsPort: number;
const cleanup: (() => Promise<void>)[] = [];

before(async () => {
  const subgraph = await startSubgraph('catalog', SDL, { Query: { hello: () => 'world' } });
  cleanup.push(() => subgraph.stop());
  const dir = await tempDir();
  cleanup.push(() => dir.remove());
  const path = join(dir.path, 'supergraph.graphql');
  await replaceFile(path, compose([{ name: 'catalog', url: subgraph.url, typeDefs: SDL }]));
  metricsPort = await freePort();
  gateway = await startTestGateway({
    SUPERGRAPH_PATH: path,
    BODY_LIMIT_BYTES: '1024',
    CORS_ORIGINS: `${SHOP},http://localhost:3000`,
    CORS_MAX_AGE_SECONDS: '300',
    HTTP_HEADERS_TIMEOUT_MS: '1000',
    HTTP_REQUEST_TIMEOUT_MS: '2000',
    METRICS_PORT: String(metricsPort),
    METRICS_TOKEN,
  });
  cleanup.unshift(() => gateway.stop());
});

after(async () => {
  for (const step of cleanup) await step();
});

const post = (body: string, headers: Record<string, string> = {}) =>
  fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

const vary = (response: Response) => (response.headers.get('vary') ?? '').split(/,\s*/).sort();

describe('CORS allowlist (CORS_ORIGINS)', () => {
  it('answers a preflight from a listed origin with the methods, headers, credentials and max age', async () => {
    const response = await fetch(gateway.url, {
      method: 'OPTIONS',
      headers: {
        origin: SHOP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), SHOP);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.match(response.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/);
    assert.match(response.headers.get('access-control-allow-headers') ?? '', /\bauthorization\b/);
    assert.match(response.headers.get('access-control-allow-headers') ?? '', /\bcontent-type\b/);
    assert.equal(response.headers.get('access-control-max-age'), '300');
    assert.ok(vary(response).includes('Origin'));
  });

  it('gives a preflight and a request from an unlisted origin no CORS header at all', async () => {
    const preflight = await fetch(gateway.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    const request = await post(QUERY, { origin: 'https://evil.example' });
    for (const response of [preflight, request]) {
      const cors = [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
      assert.deepEqual(cors, []);
    }
    assert.equal(request.status, 200, 'the server answers; the browser withholds it from the page');
  });

  it("allows a listed origin's request with credentials and exposes the request id", async () => {
    const response = await post(QUERY, { origin: SHOP });
    assert.deepEqual(await response.json(), { data: { hello: 'world' } });
    assert.equal(response.headers.get('access-control-allow-origin'), SHOP);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.match(response.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
  });
});

describe('Vary on every GraphQL response', () => {
  it('varies an answer, a refusal and an unparsable request on Accept, Authorization, Cookie and Origin', async () => {
    const answers = [
      await post(QUERY),
      await post(JSON.stringify({ query: '{ hello' })),
      await post(JSON.stringify({ query: `{ hello } # ${'x'.repeat(2048)}` })),
      await post(QUERY, { 'content-type': 'text/plain' }),
    ];
    assert.deepEqual(
      answers.map((r) => r.status),
      [200, 400, 413, 415],
    );
    for (const response of answers) assert.deepEqual(vary(response), ['Accept', 'Authorization', 'Cookie', 'Origin']);
  });
});

describe('request media types', () => {
  for (const type of ['application/json', 'application/json; charset=utf-8', 'application/graphql-response+json'])
    it(`parses a POST body of ${type}`, async () => {
      const response = await post(QUERY, { 'content-type': type });
      assert.deepEqual(await response.json(), { data: { hello: 'world' } });
    });

  for (const type of [
    'text/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/made-up+json',
    'application/json; charset=latin1',
  ])
    it(`refuses a POST body of ${type} with 415 UNSUPPORTED_MEDIA_TYPE`, async () => {
      const response = await post(QUERY, { 'content-type': type });
      assert.equal(response.status, 415);
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      assert.equal(body.errors[0]!.extensions.code, 'UNSUPPORTED_MEDIA_TYPE');
    });

  it('refuses a POST without a content type with 415', async () => {
    const response = await fetch(gateway.url, { method: 'POST', body: new Blob([QUERY]) });
    assert.equal(response.status, 415);
  });

  it('keeps GET protected by the CSRF preflight check', async () => {
    const response = await fetch(`${gateway.url}?query=${encodeURIComponent('{ hello }')}`);
    assert.equal(response.status, 400);
  });
});

describe('the sandbox page', () => {
  it('carries its content security policy as a header with frame-ancestors none, nosniff and a referrer policy', async () => {
    const response = await fetch(gateway.url, { headers: { accept: 'text/html' } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /default-src 'self'/);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
  });
});

/** A raw connection to the gateway, with everything it received and when it was closed. */
function rawConnection(): Promise<{ socket: Socket; received: () => string; closed: Promise<number> }> {
  const { port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const started = Date.now();
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now() - started)));
    socket.once('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks).toString('latin1'), closed }));
    socket.once('error', reject);
  });
}

describe('slow clients (HTTP_HEADERS_TIMEOUT_MS=1000, HTTP_REQUEST_TIMEOUT_MS=2000)', () => {
  it('cuts a body trickled one byte every 500 ms at the request timeout, not when the client is done', async () => {
    const connection = await rawConnection();
    const body = QUERY.padEnd(200, ' ');
    connection.socket.write(
      `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    let at = 0;
    const trickle = setInterval(() => {
      if (!connection.socket.destroyed && at < body.length) connection.socket.write(body[at++]!);
    }, 500);
    try {
      const ms = await connection.closed;
      // 200 bytes would take 100 s; the server cuts at 2 s (checked every second).
      assert.ok(ms < 4500, `closed after ${ms} ms`);
      assert.ok(ms >= 1500, `closed after ${ms} ms, before the request timeout`);
      assert.ok(at < 10, `${at} bytes were sent`);
      assert.match(connection.received(), /^HTTP\/1\.1 408/);
    } finally {
      clearInterval(trickle);
      connection.socket.destroy();
    }
  });

  it('cuts request headers trickled one byte every 300 ms at the headers timeout', async () => {
    const connection = await rawConnection();
    const head = 'GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ' + 'y'.repeat(100);
    let at = 0;
    const trickle = setInterval(() => {
      if (!connection.socket.destroyed && at < head.length) connection.socket.write(head[at++]!);
    }, 300);
    try {
      const ms = await connection.closed;
      assert.ok(ms < 3500, `closed after ${ms} ms`);
      assert.ok(at < head.length);
    } finally {
      clearInterval(trickle);
      connection.socket.destroy();
    }
  });

  it('answers a large body sent without Expect: 100-continue with a 413 the client can read', async () => {
    const connection = await rawConnection();
    const size = 2 * 1024 * 1024;
    connection.socket.write(
      `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n`,
    );
    // The whole body, written without waiting for any answer, as a client without Expect does.
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    for (let sent = 0; sent < size; sent += chunk.length) connection.socket.write(chunk);
    await connection.closed;
    const response = connection.received();
    assert.match(response, /^HTTP\/1\.1 413/);
    assert.match(response, /PAYLOAD_TOO_LARGE/);
    assert.match(response, /connection: close/i);
  });
});

describe('/metrics on METRICS_PORT behind METRICS_TOKEN', () => {
  it('is not served on the service port', async () => {
    const response = await fetch(new URL('/metrics', gateway.url));
    assert.equal(response.status, 404);
  });

  it('is refused without the token and served with it on the metrics port, which serves nothing else', async () => {
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    const refused = await fetch(url);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer');
    const wrong = await fetch(url, { headers: { authorization: 'Bearer not-the-token-at-all-000' } });
    assert.equal(wrong.status, 401);
    const served = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(served.status, 200);
    assert.match(await served.text(), /^# TYPE gateway_request_duration_seconds histogram/m);
    const other = await fetch(`http://127.0.0.1:${metricsPort}/graphql`, { method: 'POST', body: QUERY });
    assert.equal(other.status, 404);
  });
});
