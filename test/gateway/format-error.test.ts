import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GraphQLFormattedError } from 'graphql';
import { createFormatError } from '../../gateway/src/format-error';

const production = createFormatError({ production: true });
const development = createFormatError({ production: false });

test('keeps registry codes and their messages, without stack traces in production', () => {
  const error = {
    message: 'Subgraph "users" is unavailable',
    path: ['me'],
    extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'users', stacktrace: ['Error: connect ECONNREFUSED'] },
  };
  assert.deepEqual(production(error), {
    message: error.message,
    path: ['me'],
    extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'users' },
  });
  assert.deepEqual(development(error), error);
});

test('masks unknown errors as INTERNAL_SERVER_ERROR with a generic message in production', () => {
  const raw = {
    message: 'relation "orders_7" does not exist',
    path: ['order'],
    extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'orders' },
  };
  assert.deepEqual(production(raw), {
    message: 'Internal server error',
    path: ['order'],
    extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'orders' },
  });
  assert.deepEqual(production({ message: 'TypeError: x is undefined' }), {
    message: 'Internal server error',
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
  assert.deepEqual(
    production({ message: 'boom', extensions: { code: 'INTERNAL_SERVER_ERROR', exception: { stack: 'at db.ts:1' } } }),
    {
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    },
  );
});

test('maps unknown codes to INTERNAL_SERVER_ERROR but keeps the message outside production', () => {
  assert.deepEqual(development({ message: 'boom', extensions: { code: 'WEIRD' } }), {
    message: 'boom',
    extensions: { code: 'INTERNAL_SERVER_ERROR', originalCode: 'WEIRD' },
  });
});

test('never throws, whatever it is given', () => {
  const hostile = {
    message: 'x',
    get extensions(): never {
      throw new Error('getter exploded');
    },
  } as unknown as GraphQLFormattedError;
  for (const format of [production, development]) {
    assert.deepEqual(format(hostile), {
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  }
});

test('outside production, drops stack traces from errors that describe the request, keeps them for failures', () => {
  const clientError = {
    message: 'first must be between 0 and 100',
    extensions: { code: 'BAD_USER_INPUT', stacktrace: ['CommerceError: …'] },
  };
  assert.deepEqual(development(clientError), { message: clientError.message, extensions: { code: 'BAD_USER_INPUT' } });
  const notFound = {
    message: 'PersistedQueryNotFound',
    extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', stacktrace: ['PersistedQueryNotFoundError'] },
  };
  assert.deepEqual(development(notFound), {
    message: 'PersistedQueryNotFound',
    extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
  });
  const timeout = {
    message: 'Subgraph "users" timed out',
    extensions: { code: 'GATEWAY_TIMEOUT', stacktrace: ['at fetch'] },
  };
  assert.deepEqual(development(timeout), timeout);
});
