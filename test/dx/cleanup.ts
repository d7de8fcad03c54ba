/**
 * Cleanups that run in reverse order of registration (node:test runs
 * `t.after` hooks first-registered first), all of them even if one fails:
 * what started last stops first, e.g. a load loop before the gateway, the
 * gateway before its subgraphs, the databases last.
 */
export function cleanupStack(t: { after(fn: () => Promise<void>): void }): (fn: () => Promise<unknown>) => void {
  const stack: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    const errors: unknown[] = [];
    for (const fn of stack.splice(0).reverse()) {
      try {
        await fn();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} cleanup step(s) failed`);
  });
  return (fn) => {
    stack.push(fn);
  };
}
