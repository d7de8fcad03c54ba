import { GraphQLError, type GraphQLErrorExtensions } from 'graphql';

/**
 * The one registry of error codes (`extensions.code`) used by the gateway and
 * every subgraph, with the HTTP status each maps to when it decides the
 * response status (GraphQL-over-HTTP: request errors are 4xx; field errors
 * inside a 200 response keep the response at 200).
 */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PERSISTED_QUERY_NOT_FOUND: 200,
  PERSISTED_QUERY_NOT_IN_LIST: 400,
  PERSISTED_QUERY_HASH_MISMATCH: 400,
  OPERATION_NOT_SUPPORTED: 400,
  COST_ESTIMATED_TOO_EXPENSIVE: 400,
  RATE_LIMITED: 429,
  MAX_DEPTH_EXCEEDED: 400,
  MAX_ALIASES_EXCEEDED: 400,
  MAX_ROOT_FIELDS_EXCEEDED: 400,
  MAX_DIRECTIVES_EXCEEDED: 400,
  MAX_SELECTIONS_EXCEEDED: 400,
  MAX_TOKENS_EXCEEDED: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SUBGRAPH_UNAVAILABLE: 502,
  GATEWAY_TIMEOUT: 504,
  SERVICE_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface CommerceErrorOptions {
  /** Extra `extensions` fields (never secrets, never raw driver messages). */
  extensions?: GraphQLErrorExtensions;
  /** Underlying error, kept for logs; not sent to clients. */
  cause?: unknown;
  /** Override the HTTP status the code maps to. */
  status?: number;
  /** Where in the response the error belongs (e.g. the fields a failed subgraph fetch left null). */
  path?: readonly (string | number)[];
}

/** Base class for every error we raise on purpose: sets `code` and `http.status`. */
export class CommerceError extends GraphQLError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options: CommerceErrorOptions = {}) {
    super(message, {
      originalError: options.cause instanceof Error ? options.cause : undefined,
      path: options.path,
      extensions: {
        ...options.extensions,
        code,
        http: { status: options.status ?? ERROR_CODES[code] },
      },
    });
    this.code = code;
    this.name = 'CommerceError';
  }
}

export const badUserInput = (message: string, extensions?: GraphQLErrorExtensions): CommerceError =>
  new CommerceError('BAD_USER_INPUT', message, { extensions });

export const notFound = (message: string, extensions?: GraphQLErrorExtensions): CommerceError =>
  new CommerceError('NOT_FOUND', message, { extensions, status: 200 });

/** The JSON body of a request-level error response. */
export function errorBody(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): string {
  return JSON.stringify({ errors: [{ message, extensions: { ...extensions, code } }] });
}
