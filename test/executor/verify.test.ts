import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { Recording, canonicalResult } from '../../gateway/src/executor/verify';
import { assertNoExecutorMismatch, jsonLines, mismatchesOf } from '../helpers/executor-mismatch';

/** GATEWAY_EXECUTOR=verify's own machinery: the replay gives Apollo exactly what the compiled executor received. */

function request(query: string, variables: Record<string, unknown> = {}): GraphQLDataSourceProcessOptions {
  return { request: { query, variables } } as unknown as GraphQLDataSourceProcessOptions;
}

function answering(data: Record<string, unknown>): GraphQLDataSource {
  return { process: () => Promise.resolve({ data }) };
}

describe('verify mode: record and replay', () => {
  it('replays each recorded answer once, to the same request, as it was before the compiled executor merged into it', async () => {
    const recording = new Recording();
    const live = recording.recording({ products: answering({ product: { upc: '1' } }) });
    const received = await live.products!.process(request('{ product { upc } }'));
    (received.data!.product as Record<string, unknown>).name = 'merged later';

    const replay = recording.replaying({ products: answering({}) });
    const replayed = await replay.products!.process(request('{ product { upc } }'));
    assert.deepEqual(replayed.data, { product: { upc: '1' } });
    assert.deepEqual(recording.unused(), []);
    await assert.rejects(replay.products!.process(request('{ product { upc } }')), /never sent this request/);
    assert.equal(recording.unmatched.length, 1);
  });

  it('tells apart requests that differ only in their variables, and reports what only one executor sent', async () => {
    const recording = new Recording();
    const live = recording.recording({ reviews: answering({ _entities: [] }) });
    await live.reviews!.process(
      request('query($representations:[_Any!]!){_entities(representations:$representations){__typename}}', {
        representations: [{ id: 1 }],
      }),
    );
    const replay = recording.replaying({ reviews: answering({}) });
    await assert.rejects(
      replay.reviews!.process(
        request('query($representations:[_Any!]!){_entities(representations:$representations){__typename}}', {
          representations: [{ id: 2 }],
        }),
      ),
    );
    assert.equal(recording.unmatched.length, 1);
    assert.equal(recording.unused().length, 1);
  });

  it('replays a failed exchange as the same failure', async () => {
    const failure = new GraphQLError('subgraph down', { extensions: { code: 'SUBGRAPH_UNAVAILABLE' } });
    const recording = new Recording();
    const live = recording.recording({ users: { process: () => Promise.reject(failure) } });
    await assert.rejects(live.users!.process(request('{ me { id } }')), (e) => e === failure);
    const replay = recording.replaying({ users: answering({}) });
    await assert.rejects(replay.users!.process(request('{ me { id } }')), (e) => e === failure);
  });
});

describe('verify mode: comparing results', () => {
  const a = new GraphQLError('first', { path: ['a'], extensions: { serviceName: 'x' } });
  const b = new GraphQLError('second', { path: ['b'] });

  it('sees a difference in data, in an error, or in value-completion errors', () => {
    assert.notEqual(canonicalResult({ data: { a: 1 } }, false), canonicalResult({ data: { a: 2 } }, false));
    assert.notEqual(canonicalResult({ data: { a: 1, b: 2 } }, false), canonicalResult({ data: { b: 2, a: 1 } }, false));
    assert.notEqual(canonicalResult({ errors: [a] }, false), canonicalResult({ errors: [b] }, false));
    assert.notEqual(
      canonicalResult({ data: {}, extensions: { valueCompletion: [a] } }, false),
      canonicalResult({ data: {} }, false),
    );
  });

  it('accepts errors in another order only when the plan fetched in parallel', () => {
    assert.notEqual(canonicalResult({ errors: [a, b] }, false), canonicalResult({ errors: [b, a] }, false));
    assert.equal(canonicalResult({ errors: [a, b] }, true), canonicalResult({ errors: [b, a] }, true));
  });
});

describe('verify mode in the tests: the helpers that start gateways', () => {
  it('read log lines split across chunks, skip other output, and fail on a mismatch line', () => {
    const mismatches = mismatchesOf();
    const read = jsonLines(mismatches.see);
    read('{"level":30,"msg":"request"}\n{"level":50,"msg":"executor mis');
    read('match","compiled":"{}"}\nnode warning: not json\n');
    assert.equal(mismatches.found.length, 1);
    assert.throws(() => assertNoExecutorMismatch(mismatches.found), /differed on 1 answer/);
    assert.doesNotThrow(() => assertNoExecutorMismatch([{ msg: 'request' }]));
  });
});
