/**
 * What the data source tells the fetcher about one subgraph call. Apollo
 * hands the fetcher only URL, method, headers and body, so the hints travel
 * in internal headers that the fetcher removes before sending. (An
 * AsyncLocalStorage would do too, but on Node 20 it slows every promise of
 * the process down.)
 */
export interface CallHints {
  /** Epoch ms at which the client request's deadline passes: the call is cut there. */
  deadline?: number;
  /** The client's operation type (`query`, `mutation`): only a query's calls may be shared between requests. */
  operation?: string;
}

const DEADLINE_HEADER = 'x-commerce-deadline';
const OPERATION_HEADER = 'x-commerce-operation';

/** Attaches the hints to a subgraph request's headers (in the data source's willSendRequest). */
export function attachCallHints(
  headers: { set(name: string, value: string): void },
  { deadline, operation }: CallHints,
): void {
  if (deadline !== undefined) headers.set(DEADLINE_HEADER, String(deadline));
  if (operation !== undefined) headers.set(OPERATION_HEADER, operation);
}

/** Takes the hints out of the headers the fetcher received (the plain object Apollo builds), so they are never sent. */
export function takeCallHints(headers: Record<string, string> | undefined): CallHints {
  if (!headers) return {};
  const deadline = headers[DEADLINE_HEADER];
  const operation = headers[OPERATION_HEADER];
  delete headers[DEADLINE_HEADER];
  delete headers[OPERATION_HEADER];
  return { deadline: deadline === undefined ? undefined : Number(deadline), operation };
}
