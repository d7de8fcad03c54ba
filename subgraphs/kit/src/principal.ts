import type { IncomingHttpHeaders } from 'node:http';
import { CommerceError, SESSION_ID_HEADER, USER_ID_HEADER } from '@commerce/common';
import { decodeId } from './ids';

/**
 * Who a request acts for. THE single seam for identity in the subgraphs:
 * today the development header `x-user-id` (forwarded by the gateway), and
 * `x-session-id` for anonymous read-your-writes; a later change replaces it
 * with claims the gateway signs after verifying a JWT.
 */
export interface Principal {
  /** The signed-in user's GraphQL ID (`usr_…`), if any. */
  readonly userId?: string;
  /** Numeric user ID, if signed in. */
  readonly userKey?: bigint;
  /** Key for read-your-writes bookkeeping: the user, else the session, else none. */
  readonly consistencyKey?: string;
}

function single(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? undefined : v;
}

export function principalFromHeaders(headers: IncomingHttpHeaders): Principal {
  const user = single(headers[USER_ID_HEADER]);
  const session = single(headers[SESSION_ID_HEADER])?.slice(0, 128);
  if (user === undefined) return { consistencyKey: session ? `session:${session}` : undefined };
  let userKey: bigint;
  try {
    userKey = decodeId('User', user, USER_ID_HEADER);
  } catch (error) {
    throw new CommerceError(
      'UNAUTHENTICATED',
      `The ${USER_ID_HEADER} header is not a valid user ID: ${(error as Error).message}`,
    );
  }
  return { userId: user, userKey, consistencyKey: userConsistencyKey(userKey) };
}

/** The read-your-writes key of a signed-in user. */
export function userConsistencyKey(userKey: bigint | string): string {
  return `user:${userKey}`;
}

/** The signed-in user or an UNAUTHENTICATED error naming what is missing. */
export function requireUser(principal: Principal): { userId: string; userKey: bigint } {
  if (principal.userId === undefined || principal.userKey === undefined) {
    throw new CommerceError('UNAUTHENTICATED', `This operation needs a signed-in user (the ${USER_ID_HEADER} header)`);
  }
  return { userId: principal.userId, userKey: principal.userKey };
}
