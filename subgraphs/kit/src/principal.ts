import { CommerceError, type InternalClaims } from '@commerce/common';
import { decodeId } from './ids';

/**
 * Who a request acts for. THE single seam for identity in the subgraphs:
 * derived only from the internal token the gateway signed for this subgraph
 * (verified by the HTTP layer in subgraph.ts before anything runs; README
 * "Authentication → Internal identity"). Nothing a client sends is read here.
 */
export interface Principal {
  /** The verified user's GraphQL ID (`usr_…`), if any. */
  readonly userId?: string;
  /** Numeric user ID, if signed in. */
  readonly userKey?: bigint;
  /** The caller's scopes (JWT `scope`/`scp`, or the API key's). */
  readonly scopes: readonly string[];
  /** Key for read-your-writes bookkeeping: the user, else the anonymous session, else none. */
  readonly consistencyKey?: string;
}

/** The principal of a verified internal token; UNAUTHENTICATED if its subject is not a user ID. */
export function principalFromClaims(claims: InternalClaims): Principal {
  const session = claims.sessionId?.slice(0, 128);
  if (claims.sub === undefined) {
    return { scopes: claims.scopes, consistencyKey: session ? `session:${session}` : undefined };
  }
  let userKey: bigint;
  try {
    userKey = decodeId('User', claims.sub, 'sub');
  } catch (error) {
    throw new CommerceError('UNAUTHENTICATED', `The token subject is not a valid user ID: ${(error as Error).message}`);
  }
  return { userId: claims.sub, userKey, scopes: claims.scopes, consistencyKey: userConsistencyKey(userKey) };
}

/** The read-your-writes key of a signed-in user. */
export function userConsistencyKey(userKey: bigint | string): string {
  return `user:${userKey}`;
}

/** The signed-in user or an UNAUTHENTICATED error naming what is missing. */
export function requireUser(principal: Principal): { userId: string; userKey: bigint } {
  if (principal.userId === undefined || principal.userKey === undefined) {
    throw new CommerceError(
      'UNAUTHENTICATED',
      'This operation needs a signed-in user (Authorization: Bearer <JWT> at the gateway)',
    );
  }
  return { userId: principal.userId, userKey: principal.userKey };
}

/** Whether the caller was granted a scope (README "Authorization"). */
export function hasScope(principal: Principal, scope: string): boolean {
  return principal.scopes.includes(scope);
}

/**
 * FORBIDDEN as a field error: that field is null with the error at its path,
 * the rest of the response stands (HTTP 200, as the gateway answers it).
 */
export function forbidden(message: string): CommerceError {
  return new CommerceError('FORBIDDEN', message, { status: 200 });
}

/** Nothing, or FORBIDDEN naming the scope the caller lacks. */
export function requireScope(principal: Principal, scope: string, what: string): void {
  if (!hasScope(principal, scope))
    throw forbidden(`${what} needs the ${JSON.stringify(scope)} scope, which the caller lacks`);
}

/**
 * Whether the caller may read a user's private fields (email, orders): the
 * user themselves, or a caller with the admin scope.
 */
export function mayReadPrivate(principal: Principal, userKey: bigint): boolean {
  return principal.userKey === userKey || hasScope(principal, ADMIN_SCOPE);
}

/** The scope that reads every user's private fields and lists all users. */
export const ADMIN_SCOPE = 'admin';
