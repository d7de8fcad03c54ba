/**
 * `GATEWAY_EXECUTOR=verify` over every federation scenario (issue 14): one
 * gateway over all the themes' subgraphs composed together answers each
 * scenario with the compiled executor (which must still say what the scenario
 * expects), re-runs it with Apollo's executor on the recorded subgraph
 * answers, and must never log `executor mismatch` nor count one.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { scrape, sum } from '../helpers/metrics';
import { abstractTypes } from './scenarios/abstract-types';
import { edgeCases } from './scenarios/edge-cases';
import { entities } from './scenarios/entities';
import { failures } from './scenarios/failures';
import { post, startFederation, type Federation, type ModeGateway, type ResponseBody } from './scenarios/harness';
import { operations } from './scenarios/operations';

const themes = [entities, operations, abstractTypes, failures, edgeCases];

let federation: Federation | undefined;
let gateway: ModeGateway;

before(async () => {
  federation = await startFederation({ themes, executors: ['verify'] });
  gateway = federation.gateways.verify!;
});

after(() => federation?.stop());

for (const scenario of themes.flatMap((theme) => theme.scenarios))
  test(`verify mode answers as expected: ${scenario.name}`, async () => {
    const answer = await post(gateway.url, scenario);
    assert.equal(answer.status, scenario.status ?? 200, answer.text);
    scenario.check(JSON.parse(answer.text) as ResponseBody);
  });

test('verify mode found no difference between the compiled and Apollo’s executor on any scenario', async () => {
  const scenarios = themes.reduce((n, theme) => n + theme.scenarios.length, 0);
  // The capture works: every request wrote its log line.
  assert.ok(gateway.logs.length >= scenarios, `${gateway.logs.length} log lines for ${scenarios} requests`);
  const mismatches = gateway.logs.filter((line) => line.msg === 'executor mismatch');
  assert.deepEqual(mismatches, []);
  const samples = await scrape(gateway.url);
  assert.ok(
    samples.some((sample) => sample.name === 'gateway_executor_mismatches_total'),
    'the verify gateway exposes gateway_executor_mismatches_total',
  );
  assert.equal(sum(samples, 'gateway_executor_mismatches_total'), 0);
});
