import type { GraphQLFormattedError } from 'graphql';
import { ERROR_CODES } from '@commerce/common';

/** Options of {@link createFormatError}. */
export interface FormatErrorOptions {
  /** Mask unknown errors and strip debugging details. */
  production: boolean;
}

/** Apollo Server's own request-level codes, safe to show as they are. */
const APOLLO_REQUEST_CODES = ['OPERATION_RESOLUTION_FAILURE', 'PERSISTED_QUERY_NOT_SUPPORTED'];

const KNOWN_CODES: ReadonlySet<string> = new Set([...Object.keys(ERROR_CODES), ...APOLLO_REQUEST_CODES]);

/** Extensions that may hold stack traces or raw upstream bodies. */
const DEBUG_EXTENSIONS = ['stacktrace', 'exception', 'response'];

const INTERNAL: GraphQLFormattedError = Object.freeze({
  message: 'Internal server error',
  extensions: Object.freeze({ code: 'INTERNAL_SERVER_ERROR' }),
});

/** True for codes that describe the request or an upstream, not a gateway bug: their messages are shown as they are. */
export function isKnownCode(code: unknown): code is string {
  return typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR' && KNOWN_CODES.has(code);
}

/** Codes that describe the request (4xx in the registry, or Apollo's request-level codes), not a failure of ours. */
function isClientError(code: string): boolean {
  const status = (ERROR_CODES as Record<string, number>)[code];
  return status === undefined || status < 500;
}

function withoutDebugDetails(extensions: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(extensions)) if (!DEBUG_EXTENSIONS.includes(key)) kept[key] = value;
  return kept;
}

/** graphql-js's parser refusing a document over `parseOptions.maxTokens` (its message says "more that"). */
const TOO_MANY_TOKENS = /^Syntax Error: Document contains more th(?:an|at) (\d+) tokens/;

/** Gives errors Apollo Server or graphql-js raise for a client's mistake our registry's code. */
function withOurCode(error: GraphQLFormattedError): GraphQLFormattedError {
  const code = error.extensions?.code;
  const tokens = code === 'GRAPHQL_PARSE_FAILED' ? TOO_MANY_TOKENS.exec(error.message) : null;
  if (tokens)
    return {
      message: `The document has more than ${tokens[1]} tokens (MAX_TOKENS)`,
      extensions: { code: 'MAX_TOKENS_EXCEEDED', limit: Number(tokens[1]) },
    };
  return error;
}

function format(received: GraphQLFormattedError, production: boolean): GraphQLFormattedError {
  const error = withOurCode(received);
  const extensions = error.extensions ?? {};
  const code = typeof extensions.code === 'string' ? extensions.code : undefined;
  const known = isKnownCode(code);
  if (!production) {
    // A stack trace of the gateway says nothing about the client's own mistake.
    if (known && isClientError(code)) return { ...error, extensions: withoutDebugDetails(extensions) };
    if (known) return error;
    return {
      ...error,
      extensions: {
        ...extensions,
        code: 'INTERNAL_SERVER_ERROR',
        ...(code && code !== 'INTERNAL_SERVER_ERROR' ? { originalCode: code } : {}),
      },
    };
  }
  if (known) return { ...error, extensions: withoutDebugDetails(extensions) };
  const masked: { -readonly [K in keyof GraphQLFormattedError]: GraphQLFormattedError[K] } = {
    message: INTERNAL.message,
    extensions:
      typeof extensions.serviceName === 'string'
        ? { code: 'INTERNAL_SERVER_ERROR', serviceName: extensions.serviceName }
        : INTERNAL.extensions,
  };
  if (error.locations) masked.locations = error.locations;
  if (error.path) masked.path = error.path;
  return masked;
}

/**
 * Apollo Server's `formatError`: keeps errors whose code is in our registry,
 * turns every other error into INTERNAL_SERVER_ERROR (with a generic message
 * and no details in production, so no driver text or stack reaches a client),
 * and never throws.
 */
export function createFormatError({ production }: FormatErrorOptions) {
  return (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    try {
      return format(formatted, production);
    } catch {
      return INTERNAL;
    }
  };
}
