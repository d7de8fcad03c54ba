import { CommerceError, type ErrorCode } from '@commerce/common';

/**
 * Why a subgraph call failed, sent as `extensions.reason` next to
 * `extensions.serviceName`. The first five come from a call that was made,
 * the last two from one the gateway refused to make.
 */
export type SubgraphFailureReason =
  | 'connection_failed'
  | 'timeout'
  | 'deadline'
  | 'bad_status'
  | 'invalid_response'
  | 'circuit_open'
  | 'concurrency_limit';

/** Details of {@link subgraphError}. */
export interface SubgraphErrorDetails {
  /** Kept for logs, never sent. */
  cause?: unknown;
  /** The budget that ran out (timeout). */
  timeoutMs?: number;
  /** The subgraph's HTTP status (bad_status), sent as `extensions.subgraphStatus`. */
  subgraphStatus?: number;
  /** A code and message the subgraph itself sent (bad_status with a registry code). */
  code?: ErrorCode;
  message?: string;
}

function describe(
  serviceName: string,
  reason: SubgraphFailureReason,
  { timeoutMs, subgraphStatus }: SubgraphErrorDetails,
): [ErrorCode, string] {
  const subgraph = `Subgraph "${serviceName}"`;
  switch (reason) {
    case 'connection_failed':
      return ['SUBGRAPH_UNAVAILABLE', `${subgraph} is unavailable`];
    case 'timeout':
      return ['GATEWAY_TIMEOUT', `${subgraph} did not answer within ${timeoutMs} ms (SUBGRAPH_TIMEOUT_MS)`];
    case 'deadline':
      return [
        'GATEWAY_TIMEOUT',
        `${subgraph} could not answer before the request's deadline (GATEWAY_REQUEST_TIMEOUT_MS)`,
      ];
    case 'bad_status':
      return ['SUBGRAPH_UNAVAILABLE', `${subgraph} answered HTTP ${subgraphStatus}`];
    case 'invalid_response':
      return ['SUBGRAPH_UNAVAILABLE', `${subgraph} sent an invalid response`];
    case 'circuit_open':
      return [
        'SUBGRAPH_UNAVAILABLE',
        `${subgraph} is unavailable: its circuit breaker is open after repeated failures`,
      ];
    case 'concurrency_limit':
      return [
        'SUBGRAPH_UNAVAILABLE',
        `${subgraph} has too many calls in flight and queued (SUBGRAPH_MAX_CONCURRENCY, SUBGRAPH_MAX_QUEUE)`,
      ];
  }
}

/**
 * The error a failed subgraph call becomes. It is a field error inside a
 * response that can still carry other subgraphs' data, so its HTTP status is 200.
 */
export function subgraphError(
  serviceName: string,
  reason: SubgraphFailureReason,
  details: SubgraphErrorDetails = {},
): CommerceError {
  const [code, message] =
    details.code && details.message ? [details.code, details.message] : describe(serviceName, reason, details);
  const extensions = {
    serviceName,
    reason,
    ...(details.subgraphStatus === undefined ? {} : { subgraphStatus: details.subgraphStatus }),
  };
  return new CommerceError(code, message, { extensions, cause: details.cause, status: 200 });
}

/** The same error placed at `path` in the response. */
export function atPath(error: CommerceError, path: readonly (string | number)[]): CommerceError {
  const {
    code: _code,
    http,
    ...extensions
  } = error.extensions as Record<string, unknown> & { http?: { status?: number } };
  return new CommerceError(error.code, error.message, {
    extensions,
    cause: error.originalError,
    status: http?.status,
    path,
  });
}

function reasonOf(error: unknown): { reason?: unknown; subgraphStatus?: unknown } {
  return error instanceof CommerceError ? (error.extensions as { reason?: unknown; subgraphStatus?: unknown }) : {};
}

/** A failure of the subgraph itself (not of the caller or of our own limits): counts towards opening its circuit. */
export function isSubgraphFailure(error: unknown): boolean {
  const { reason, subgraphStatus } = reasonOf(error);
  if (reason === 'bad_status') return typeof subgraphStatus === 'number' && subgraphStatus >= 500;
  return reason === 'connection_failed' || reason === 'timeout' || reason === 'invalid_response';
}

/** A failure a query may be retried after: the connection failed, or a proxy or the subgraph said 502/503/504. */
export function isRetryableFailure(error: unknown): boolean {
  const { reason, subgraphStatus } = reasonOf(error);
  if (reason === 'bad_status') return subgraphStatus === 502 || subgraphStatus === 503 || subgraphStatus === 504;
  return reason === 'connection_failed';
}
