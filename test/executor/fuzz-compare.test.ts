import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composeStandardSupergraph } from '../../bench/workload/standard/supergraph';
import { compareAnswers, createPlanInspector, type Answer } from './fuzz/compare';

const answer = (body: unknown, status = 200): Answer => ({ status, body: Buffer.from(`${JSON.stringify(body)}\n`) });
const parallel = () => true;
const sequential = () => false;

const e1 = { message: 'No user', path: ['a'], extensions: { code: 'NOT_FOUND' } };
const e2 = { message: 'No order', path: ['b'], extensions: { code: 'NOT_FOUND' } };

describe('how the executor fuzzing compares two answers', () => {
  it('calls equal bytes identical, and another status or another key order different', () => {
    const body = { data: { a: 1, b: 2 } };
    assert.equal(compareAnswers(answer(body), answer(body), parallel), 'identical');
    assert.equal(compareAnswers(answer(body), answer(body, 500), parallel), 'different');
    assert.equal(compareAnswers(answer(body), answer({ data: { b: 2, a: 1 } }), parallel), 'different');
    assert.equal(compareAnswers(answer(body), answer({ data: { a: 1, b: 3 } }), parallel), 'different');
  });

  it('lets several errors come in another order only when the plan fetches in parallel', () => {
    const left = answer({ errors: [e1, e2], data: null });
    const right = answer({ errors: [e2, e1], data: null });
    assert.equal(compareAnswers(left, right, parallel), 'errors-reordered');
    assert.equal(compareAnswers(left, right, sequential), 'different');
    // The rest of the body still counts byte for byte.
    assert.equal(compareAnswers(left, answer({ data: null, errors: [e2, e1] }), parallel), 'different');
    assert.equal(
      compareAnswers(left, answer({ errors: [e2, { ...e1, path: ['c'] }], data: null }), parallel),
      'different',
    );
  });

  it('leaves stack traces out, and nothing else, and refuses bodies not written as JSON.stringify writes them', () => {
    const traced = (frames: string[]) => ({ errors: [{ ...e1, extensions: { code: 'X', stacktrace: frames } }] });
    assert.equal(compareAnswers(answer(traced(['at a'])), answer(traced(['at b'])), sequential), 'stacktraces');
    const other = { errors: [{ ...e1, extensions: { code: 'Y', stacktrace: ['at a'] } }] };
    assert.equal(compareAnswers(answer(traced(['at a'])), answer(other), sequential), 'different');
    const spaced: Answer = { status: 200, body: Buffer.from('{"data": {"a": 1}}') };
    assert.equal(compareAnswers(answer({ data: { a: 1 } }), spaced, parallel), 'different');
  });

  it('sets key order aside only when asked to (diagnosis)', () => {
    const left = answer({ data: { a: 1, b: { c: 1, d: 2 } } });
    const right = answer({ data: { b: { d: 2, c: 1 }, a: 1 } });
    assert.equal(compareAnswers(left, right, parallel, { ignoreKeyOrder: true }), 'key-order');
    assert.equal(
      compareAnswers(left, answer({ data: { b: { d: 2, c: 9 }, a: 1 } }), parallel, { ignoreKeyOrder: true }),
      'different',
    );
  });

  it("finds parallel fetches in the planner's plan of an operation", () => {
    const url = 'http://127.0.0.1:9/graphql';
    const inspector = createPlanInspector(
      composeStandardSupergraph({ accounts: url, inventory: url, products: url, reviews: url }),
    );
    assert.equal(inspector.fetchesInParallel('{ users { id } topProducts { upc } }', undefined), true);
    assert.equal(inspector.fetchesInParallel('{ topProducts { upc name } }', undefined), false);
    assert.equal(inspector.fetchesInParallel('{ topProducts { reviews { id } inStock } }', undefined), true);
  });
});
