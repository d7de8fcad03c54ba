/**
 * The tests' one wait: polls `check` until it returns a value other than
 * undefined/false (a throw counts as not yet), or fails after `timeoutMs`
 * naming what it waited for. Bounded in time; never a fixed sleep.
 */
export async function waitFor<T>(
  description: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`, { cause: last });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
