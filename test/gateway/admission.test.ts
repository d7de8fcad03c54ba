import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { pino } from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdmissionControl, AdmissionRefused } from '../../gateway/src/admission';
import { loadGatewayConfig, startGateway } from '../../gateway/src/index';
import { startStandardSubgraphs } from '../../bench/workload/standard/server';
import { STANDARD_QUERY } from '../../bench/workload/standard/subgraphs';
import { composeStandardSupergraph } from '../../bench/workload/standard/supergraph';
import { waitFor } from '../helpers/wait';

/** Keeps this process's event loop busy (real CPU work in slices, so timers still run between them) until `until()`. */
async function saturate(until: () => boolean, maxMs = 5000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!until() && Date.now() < deadline) {
    const end = Date.now() + 25;
    let x = 0;
    while (Date.now() < end) x += Math.sqrt(x + 1);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('admission control: the concurrency limit follows the event loop’s saturation', () => {
  it('admits everything while the loop is idle, however many operations wait on I/O', async () => {
    const admission = new AdmissionControl({
      minConcurrency: 2,
      maxConcurrency: 64,
      maxQueue: 0,
      maxWaitMs: 10_000,
      intervalMs: 20,
    });
    try {
      const releases = await Promise.all(Array.from({ length: 40 }, () => admission.admit()));
      // 300 ms of idle waiting (operations waiting on subgraphs): the limit does not move.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(admission.limit, 64);
      assert.equal(admission.inFlight, 40);
      for (const release of releases) release();
      assert.equal(admission.inFlight, 0);
    } finally {
      admission.close();
    }
  });

  it('shrinks the limit while the loop is saturated, queues in order, refuses past the queue, and grows back when idle', async () => {
    const admission = new AdmissionControl({
      minConcurrency: 2,
      maxConcurrency: 64,
      maxQueue: 3,
      maxWaitMs: 60_000,
      intervalMs: 20,
    });
    try {
      const running = await Promise.all(Array.from({ length: 10 }, () => admission.admit()));
      await saturate(() => admission.limit === 2);
      assert.equal(admission.limit, 2, 'saturated: the limit fell to its minimum');

      const order: number[] = [];
      const waiting = [1, 2, 3].map((n) => admission.admit().then((release) => (order.push(n), release)));
      assert.equal(admission.queued, 3);
      await assert.rejects(
        admission.admit(),
        (error) => error instanceof AdmissionRefused && error.reason === 'queue_full',
      );

      // The running operations finish: at once (before any adjustment) the limit of 2 admits the first two waiters.
      for (const release of running) release();
      assert.equal(admission.inFlight, 2);
      assert.equal(admission.queued, 1);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(order, [1, 2], 'in arrival order');

      // Idle again: the limit grows and the last waiter runs.
      await waitFor('the limit to grow back', () => admission.limit > 2 && order.length === 3, 5000);
      for (const release of await Promise.all(waiting)) release();
      assert.equal(admission.inFlight, 0);
    } finally {
      admission.close();
    }
  });

  it('refuses an operation that waited longer than its deadline instead of starting it late', async () => {
    const admission = new AdmissionControl({
      minConcurrency: 1,
      maxConcurrency: 1,
      maxQueue: 5,
      maxWaitMs: 50,
      intervalMs: 1000,
    });
    try {
      const release = await admission.admit();
      const late = admission.admit();
      await new Promise((resolve) => setTimeout(resolve, 120));
      release();
      await assert.rejects(late, (error) => error instanceof AdmissionRefused && error.reason === 'queue_timeout');
      assert.equal(admission.inFlight, 0);
    } finally {
      admission.close();
    }
  });
});

describe('admission control in the gateway', () => {
  it('answers 503 SERVICE_UNAVAILABLE with Retry-After when the gateway is saturated and its queue is full', async () => {
    const subgraphs = await startStandardSubgraphs();
    const dir = await mkdtemp(join(tmpdir(), 'admission-'));
    const supergraph = join(dir, 'supergraph.graphql');
    await writeFile(supergraph, composeStandardSupergraph(subgraphs.urls));
    const gateway = await startGateway(
      loadGatewayConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        SUPERGRAPH_PATH: supergraph,
        RESPONSE_CACHE: 'false',
        GATEWAY_ADMISSION_MIN_CONCURRENCY: '1',
        GATEWAY_ADMISSION_MAX_QUEUE: '0',
      }),
      { logger: pino({ level: 'silent' }) },
    );
    try {
      const limit = async () =>
        Number(
          /^gateway_admission_limit\S* (\d+)/m.exec(
            await (await fetch(gateway.url.replace('/graphql', '/metrics'))).text(),
          )?.[1],
        );
      let saturated = false;
      const busy = saturate(() => saturated, 10_000);
      await waitFor('the limit to fall to 1 while this process is saturated', async () => (await limit()) === 1, 8000);
      const answers = await Promise.all(
        [1, 2, 3].map(() =>
          fetch(gateway.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: STANDARD_QUERY }),
          }).then(async (r) => ({
            status: r.status,
            retryAfter: r.headers.get('retry-after'),
            body: (await r.json()) as { errors?: { extensions?: { code?: string } }[] },
          })),
        ),
      );
      saturated = true;
      await busy;
      const refused = answers.filter((a) => a.status === 503);
      assert.ok(
        answers.some((a) => a.status === 200),
        'one operation ran',
      );
      assert.ok(refused.length >= 1, 'the others found no room and no queue');
      for (const answer of refused) {
        assert.equal(answer.retryAfter, '1');
        assert.equal(answer.body.errors?.[0]?.extensions?.code, 'SERVICE_UNAVAILABLE');
      }
    } finally {
      await gateway.stop();
      await subgraphs.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
