/**
 * Bounded polling for tests, where no event says that a state was reached (another process's
 * table, a queue inside the runtime): checks `cond` every `every` ms until it holds, and fails
 * naming `what` after `timeout` ms. The bound is a deadline for a hang, never a measured figure.
 */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeout = 10_000, every = 10): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
