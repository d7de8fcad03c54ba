/**
 * The request headers the gateway and the subgraphs both read, named once.
 * Identity is the development headers for now; a later issue replaces them
 * with a JWT the gateway verifies and claims it signs for the subgraphs.
 */

/** The caller's user id (`usr_…`), forwarded by the gateway to every subgraph. */
export const USER_ID_HEADER = 'x-user-id';
/** An anonymous session, for read-your-writes without a user. */
export const SESSION_ID_HEADER = 'x-session-id';
/** Correlates one request's log lines across the gateway and the subgraphs. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** A client's API key (the gateway keeps only its sha256). */
export const API_KEY_HEADER = 'x-api-key';
