/**
 * GATEWAY_EXECUTOR=verify in the tests: every gateway a test starts checks
 * each answer of its compiled executor against @apollo/gateway's and logs
 * `executor mismatch` on a difference; the helpers that start gateways fail
 * their `stop()` on such a line.
 */

/** The log message of a difference (gateway/src/executor). */
const MISMATCH = 'executor mismatch';

/** A reader of JSON log lines arriving in chunks (a line may span two); other lines are skipped. */
export function jsonLines(onLine: (line: Record<string, unknown>) => void): (chunk: Buffer | string) => void {
  let partial = '';
  return (chunk) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // not a log line (a warning printed by node or tsx)
      }
      onLine(parsed);
    }
  };
}

/** Keeps the mismatch lines of a log. */
export function mismatchesOf(): {
  see(line: Record<string, unknown>): void;
  readonly found: Record<string, unknown>[];
} {
  const found: Record<string, unknown>[] = [];
  return {
    found,
    see(line) {
      if (line.msg === MISMATCH) found.push(line);
    },
  };
}

/** Fails when a gateway saw its compiled executor answer differently from Apollo's. */
export function assertNoExecutorMismatch(logs: ReadonlyArray<Record<string, unknown>>): void {
  const mismatches = logs.filter((line) => line.msg === MISMATCH);
  if (mismatches.length > 0)
    throw new Error(
      `the compiled executor and @apollo/gateway's differed on ${mismatches.length} answer(s); first:\n${JSON.stringify(mismatches[0], null, 2)}`,
    );
}
