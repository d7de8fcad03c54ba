/**
 * The request headers the gateway and the subgraphs both read, named once.
 * Identity is a bearer JWT the gateway verifies and an internal token it
 * signs for each subgraph (`INTERNAL_IDENTITY_HEADER`, internal-identity.ts).
 */

/** The former development identity header: no longer an identity; the gateway refuses it with 401. */
export const USER_ID_HEADER = 'x-user-id';
/** An anonymous session, for read-your-writes without a user (carried to subgraphs inside the internal token). */
export const SESSION_ID_HEADER = 'x-session-id';
/** Correlates one request's log lines across the gateway and the subgraphs. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** A client's API key (the gateway keeps only its sha256). */
export const API_KEY_HEADER = 'x-api-key';
